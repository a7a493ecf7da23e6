"""One small client per vendor SDK, each turning a VendorCall into one HTTP request."""

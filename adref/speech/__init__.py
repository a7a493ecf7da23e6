"""What the ad says aloud: the audio track, extracted once, transcribed by a configured engine.

Plain functions on plain data; the ``speech`` task is a thin layer over ``run.transcribe_video``.
Engines: ``openai`` (the audio transcription API, or an OpenAI-compatible gateway), ``gemini``
(an audio part to ``generateContent``) and ``local`` (faster-whisper on a model folder the user
keeps). With none configured the step is skipped; it never fails a run.
"""

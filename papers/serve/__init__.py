"""`papers serve`: an OpenAI-compatible HTTP API with cited answers (FastAPI + uvicorn).

``openai_format`` translates OpenAI's chat format, ``limits`` holds auth, the body cap and the LLM slots,
``app`` the routes (thin: every answer comes from ``assistant``'s public API), ``run`` the process lifecycle.
"""

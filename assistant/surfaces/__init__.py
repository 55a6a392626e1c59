"""How people reach the service: JSON API, Gradio web app, command line."""

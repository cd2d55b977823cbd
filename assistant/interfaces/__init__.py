"""Interfaces: the command line, the Gradio app and its tabs, the chat session, uploads, the server.

Thin: they parse input, call one package function and render its model.
May import: every capability package; nothing imports interfaces.
"""

"""Editing faces as a user would: the ``Editor`` API, the ``lsgan edit/estimate/demo/serve/export`` commands'
machinery, the Gradio page and the ONNX export.

    from lsgan.editing import Editor
    editor = Editor.from_pretrained()            # or a bundle folder; device="cuda"; align=False for crops
    result = editor.edit("me.jpg", emotion="happy", intensity=0.7)
"""

from lsgan.editing.editor import Editor, EditorConfig, EditResult

__all__ = ["EditResult", "Editor", "EditorConfig"]

"""Helpers the tests share (import them as `tests.support.<module>`):

- `imagefiles`: small deterministic real image files made with Pillow (bytes, EXIF, trees)
- `rows`: catalogue rows (files, images, predictions) written without a scan
- `app_library`: gradient JPEGs and a catalogue of them for the app, snapshot and tmux tests
- `app_fixtures`: the duplicates and rated-shapes fixtures of the Search/groups/Train tests
  (pytest fixtures: a conftest imports them to make them visible)
- `preference`: the personal evaluator's catalogue of vectors and its simulated user
- `tmuxdrive`: driving the real app in tmux (start it, send keys, wait for text)
- `keyburst`: keys sent faster than screens appear (type-ahead tests)
- `childhooks`: making the app's child processes misbehave on purpose (crash, slow decodes)
"""

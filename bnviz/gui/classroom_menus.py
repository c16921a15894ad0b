"""The classroom's menu actions: lesson presets (Lessons > Presets), Save as lesson...,
Export report..., and View > Classroom mode / Lesson guidance.

Like :mod:`bnviz.gui.menus`, every action that takes a path accepts it directly (tests and
scripts), reports failure in the status bar and leaves the run as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QMenu,
    QMenuBar,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from bnviz.gui.classroom import ClassroomDialog
from bnviz.gui.file_dialog import SETTINGS_SUFFIX
from bnviz.gui.file_dialog import ask as _ask
from bnviz.gui.lessons import LessonView, find_lesson
from bnviz.gui.window_api import AppWindow, MenuAction
from bnviz.lessons.presets import (
    Classroom,
    Lesson,
    Preset,
    list_presets,
    load_preset,
    write_settings_file,
)
from bnviz.train.config import ConfigError

HIDDEN_KEY, SCALE_KEY = "classroom/hidden", "classroom/scale"


def add_file_actions(win: AppWindow, file_menu: QMenu, action: MenuAction) -> None:
    """File > Save as lesson... and Export report... (``action``: menus._action)."""
    action(win, file_menu, "Save as lesson...", lambda: save_lesson(win))
    action(win, file_menu, "Export report (HTML)...", lambda: export_report(win))


def add_preset_menu(win: AppWindow, lessons_menu: QMenu, action: MenuAction) -> None:
    """Lessons > Presets: every shipped preset, and "Open lesson file..."."""
    lessons_menu.addSeparator()
    menu = lessons_menu.addMenu("Presets")
    try:
        presets = list_presets()
    except ConfigError as e:  # a broken installation: say so, keep the app
        presets = []
        win.show_message(f"lesson presets could not be read: {e}", error=True)
    for p in presets:
        title = p.lesson.title if p.lesson else p.name
        action(win, menu, title, lambda _checked=False, n=p.name: open_preset(win, n))
    menu.addSeparator()
    action(win, menu, "Open lesson file...", lambda: open_preset_file(win))


def add_view_menu(win: AppWindow, bar: QMenuBar, action: MenuAction) -> None:
    """View > Classroom mode (checkable; a checklist first) and Lesson guidance."""
    view = bar.addMenu("&View")
    win.classroom_action = action(
        win, view, "Classroom mode...", lambda on: toggle_classroom(win, on)
    )
    win.classroom_action.setCheckable(True)
    win.guidance_action = action(win, view, "Lesson guidance", lambda on: show_guidance(win, on))
    win.guidance_action.setCheckable(True)
    win.guidance_action.setEnabled(False)
    win.lesson_strip.close_button.clicked.connect(lambda: win.guidance_action.setChecked(False))


# -- presets -----------------------------------------------------------------------------------
def open_preset(win: AppWindow, name_or_path: str) -> bool:
    """Open a shipped preset by name or a lesson/settings file: its settings, guidance, view
    and classroom state."""
    try:
        preset = load_preset(name_or_path)
    except ConfigError as e:
        win.show_message(str(e), error=True)
        return False
    if not win.reset(preset.config):
        return False
    show_preset(win, preset)
    return True


def open_preset_file(win: AppWindow, path: str | None = None) -> bool:
    path = _ask(win, False, "Open lesson", "bnviz lessons (*.json);;All files (*)", path)
    if not path:
        return False
    return open_preset(win, path)


def show_preset(win: AppWindow, preset: Preset) -> None:
    """Show what a preset carries besides its settings (already training): the guidance strip,
    its lesson view (or the training tab), its classroom state."""
    win.preset = preset if preset.lesson is not None else None
    win.lesson_strip.show_lesson(preset.lesson)
    win.guidance_action.setEnabled(preset.lesson is not None)
    win.guidance_action.setChecked(preset.lesson is not None)
    view = preset.lesson.view if preset.lesson else None
    name = find_lesson(view) if view else None
    if name is not None:
        win.open_lesson(name)
    elif view:
        win.show_message(f"lesson view {view!r} is not installed; its settings are open", True)
    elif preset.lesson is not None:
        win.tabs.setCurrentWidget(win.training_tab)
    if preset.classroom is not None:
        set_classroom(win, preset.classroom)


def show_guidance(win: AppWindow, on: bool) -> None:
    lesson = win.lesson_strip.lesson
    if on and lesson is not None:
        win.lesson_strip.show_lesson(lesson)
    else:
        win.lesson_strip.hide()


def save_lesson(
    win: AppWindow, path: str | None = None, title: str | None = None,
    guidance: str | None = None, with_view: bool = True,
) -> bool:  # fmt: skip
    """Write the current settings, the guidance text, the open lesson view and the classroom
    state as a lesson file (``bnviz --preset FILE.json`` opens it). Without ``title`` a dialog
    asks for title and guidance."""
    if title is None:
        dialog = LessonDialog(win, win.preset.lesson if win.preset else None)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        title, guidance, with_view = dialog.values()
    path = _ask(win, True, "Save as lesson", "bnviz lessons (*.json)", path, SETTINGS_SUFFIX)
    if not path:
        return False
    current = win.tabs.currentWidget()
    view = current.slug() if with_view and isinstance(current, LessonView) else None
    try:
        title = title or Path(path).stem
        lesson = Lesson.from_dict(
            {"name": slugify(title), "title": title, "guidance": guidance or "", "view": view}
        )
        write_settings_file(path, win.controls.config(), lesson, classroom_state(win))
    except (ConfigError, OSError) as e:
        win.show_message(f"could not save the lesson: {e}", error=True)
        return False
    win.preset = Preset(win.controls.config(), lesson, classroom_state(win), Path(path))
    win.show_message(f"lesson saved to {path} (bnviz --preset {path} opens it)")
    return True


def slugify(title: str) -> str:
    """A lesson's name from its title: lower-case words joined by "-"."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "lesson"


class LessonDialog(QDialog):
    """Title, guidance and whether to keep the open lesson view, for Save as lesson..."""

    def __init__(self, parent: QWidget | None, lesson: Lesson | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save as lesson")
        self.title = QLineEdit(lesson.title if lesson else "")
        self.title.setPlaceholderText("e.g. Deep sigmoid net, BN vs plain")
        self.guidance = QPlainTextEdit(lesson.guidance if lesson else "")
        self.guidance.setPlaceholderText(
            "What to do, what to look for, which formula it shows (shown beside the plots)."
        )
        self.with_view = QCheckBox("Open the lesson view shown now")
        self.with_view.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Guidance", self.guidance)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.with_view)
        lay.addWidget(buttons)

    def values(self) -> tuple[str, str, bool]:
        title = self.title.text().strip() or "My lesson"
        return title, self.guidance.toPlainText().strip(), self.with_view.isChecked()


# -- classroom mode ----------------------------------------------------------------------------
def classroom_state(win: AppWindow) -> Classroom | None:
    """What a settings file keeps of classroom mode: its state while on, else nothing."""
    state = win.classroom.state
    return state if state.enabled else None


def set_classroom(win: AppWindow, state: Classroom) -> None:
    """Apply ``state`` and keep the menu's tick and the saved checklist in step."""
    unknown = win.classroom.set_state(state)
    win.classroom_action.setChecked(state.enabled)
    if state.enabled:
        win.settings.setValue(HIDDEN_KEY, ",".join(state.hidden))
        win.settings.setValue(SCALE_KEY, state.scale)
    if unknown:
        win.show_message(f"classroom mode: no control named {', '.join(unknown)}", error=True)


def toggle_classroom(win: AppWindow, on: bool) -> None:
    """View > Classroom mode: on asks which controls to hide (the last choice ticked)."""
    if not on:
        set_classroom(win, Classroom(False, win.classroom.state.hidden, win.classroom.state.scale))
        return
    hidden = [h for h in str(win.settings.value(HIDDEN_KEY, "") or "").split(",") if h]
    try:
        scale = float(str(win.settings.value(SCALE_KEY, win.classroom.state.scale)))
        last = Classroom.from_dict({"hidden": hidden, "scale": scale})
    except (ConfigError, TypeError, ValueError):
        last = Classroom(True)
    dialog = ClassroomDialog(win.controls, last, win)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        win.classroom_action.setChecked(False)
        return
    set_classroom(win, dialog.state())


# -- report ------------------------------------------------------------------------------------
def export_report(win: AppWindow, path: str | None = None) -> bool:
    from bnviz.gui.report import write_report

    path = _ask(win, True, "Export report", "HTML (*.html)", path, ".html")
    if not path:
        return False
    try:
        write_report(win, path)
    except Exception as e:  # OSError, a plot that cannot render: report, never crash
        win.show_message(f"could not write the report: {e}", error=True)
        return False
    win.show_message(f"report written to {path}")
    return True

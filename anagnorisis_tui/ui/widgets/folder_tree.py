"""FolderTree: the library's folders with image counts; selecting one scopes the grid."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from anagnorisis_tui.ui.state.scope import Scope
from anagnorisis_tui.ui.state.text import safe


class FolderTree(Tree[Scope]):
    DEFAULT_CSS = """
    FolderTree { height: 1fr; overflow-x: hidden; }
    """

    class ScopeChosen(Message):
        def __init__(self, scope: Scope) -> None:
            super().__init__()
            self.scope = scope

    def __init__(self, id: str | None = None) -> None:
        super().__init__(Text("All images"), data=Scope(None, None), id=id)
        self.show_root = True
        self.guide_depth = 2

    def load(self, roots: list[tuple[str, list[tuple[str, int]]]]) -> None:
        """Rebuild from [(root, [(relative folder, images in it and below), ...]), ...]."""
        expanded = {n.data for n in self._all_nodes() if n.is_expanded and n.data is not None}
        self.clear()
        grand_total = 0
        for root, folders in roots:
            totals: dict[str, int] = dict(folders)
            grand_total += totals.get("", 0)
            root_node = self.root.add(self._label(root, totals.get("", 0)), data=Scope(root, None))
            nodes: dict[str, TreeNode[Scope]] = {"": root_node}
            for key in sorted(k for k in totals if k):
                parent_key, _, name = key.rpartition("/")
                parent = nodes.get(parent_key, root_node)
                node = parent.add(self._label(name, totals[key]), data=Scope(root, key))
                nodes[key] = node
            for node in nodes.values():
                if not node.children:
                    node.allow_expand = False
                if node.data in expanded or node is root_node:
                    node.expand()
        self.root.set_label(self._label("All images", grand_total))
        self.root.expand()

    def _all_nodes(self) -> list[TreeNode[Scope]]:
        out: list[TreeNode[Scope]] = []
        stack = [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(node.children)
        return out

    @staticmethod
    def _label(name: str, count: int) -> Text:
        # Names are plain text: a folder called "[bold]" shows literally.
        return Text.assemble(Text(safe(name)), (f"  {count:,}", "dim"))

    def on_tree_node_selected(self, event: Tree.NodeSelected[Scope]) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.ScopeChosen(event.node.data))

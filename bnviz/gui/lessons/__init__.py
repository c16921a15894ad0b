"""Views of the lessons in ``bnviz.lessons``: each draws what its lesson computes."""

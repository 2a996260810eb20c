"""Application services: the use cases both front ends call.

The CLI (``maskroom.cli``) and the desktop app (``maskroom.ui``) are thin: they parse,
call a function here and print or draw its result.  A service opens catalog sessions,
calls the engine and returns plain values; it never prints and never imports a front
end.  See docs/architecture.md.
"""

"""Flush subnormal floats to zero in the training thread.

A ReLU unit that dies gets exactly zero gradients from then on, and Adam's and momentum's first
moment ``v`` then decays by beta per step: about 800 steps after the unit died it passes below
float32's smallest normal number (1.2e-38) and spends another ~150 steps as a *subnormal*,
where every multiply and add takes a microcode assist of about a hundred cycles. On bnviz's
W1 benchmark (4 x 64 ReLU, Adam) a steady 10% of the moments were subnormal and the optimizer
step took 110 us instead of 20 (the whole training step 233 us instead of 160); PyTorch, which
keeps subnormals by default, loses 13% to them on the same network.

Setting the CPU's flush-to-zero and denormals-are-zero modes (x86's MXCSR FTZ/DAZ bits, ARM's
FPCR.FZ) makes those values 0 instead. The arithmetic of every normal number is unchanged; a
value below 1.2e-38 becomes 0, which for a weight, a gradient or a moment means nothing (an
Adam step of v / (sqrt(s) + eps) with v ~ 1e-39 moves a weight by 1e-31). The mode belongs to
the thread. :func:`flushed` sets it for the length of a ``with`` block and puts the old mode
back: :meth:`~bnviz.train.trainer.Trainer.step` trains inside one, so a notebook that builds a
trainer keeps IEEE subnormals in its own arithmetic (a float64 temperature of 5e-324 stays
> 0). Switching costs 3 us in a loop of nothing but switches and 5-13 us a step in a training
loop (the CPU serializes around a change of its control register), so the processes that only
train (the app's training process, the worker pools) call :func:`flush_denormals` once: the
thread then stays flushed and ``flushed()`` does nothing; ``bnviz train``, which may run
inside a caller's process, holds it for its run only (``flushed(hold=True)``).
``BNVIZ_DENORMALS=keep`` leaves the CPU's default everywhere.

Only the known layouts of the C library's ``fenv_t`` are touched (glibc and macOS on x86-64 and
ARM64, the MSVC runtime's ``_controlfp``); anything else is left alone and the function says
False. After setting the bits it checks that a subnormal product is now 0 and that rounding is
still to nearest, and puts the old environment back if not.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
import threading

import numpy as np

DENORMALS_ENV = "BNVIZ_DENORMALS"
_MXCSR_FTZ_DAZ = 0x8040  # bit 15 flush-to-zero, bit 6 denormals-are-zero
_FPCR_FZ = 1 << 24
_thread = threading.local()  # .for_good: the thread was set to flush by a call that meant it


def _libm() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("m")
    if name is None and sys.platform == "darwin":
        name = "libSystem.dylib"
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _layout() -> tuple[int, int, int, int] | None:
    """(size of fenv_t, byte offset of the control word, its width in bytes, the bits to set)
    for this platform, or None when it is not one whose layout is known."""
    machine = platform.machine().lower()
    x86 = machine in ("x86_64", "amd64")
    arm = machine in ("aarch64", "arm64")
    if sys.platform.startswith("linux"):
        if x86:  # glibc: 28 bytes of x87 state, then the 32-bit MXCSR
            return 32, 28, 4, _MXCSR_FTZ_DAZ
        if arm:  # glibc: unsigned int __fpcr, __fpsr
            return 8, 0, 4, _FPCR_FZ
    if sys.platform == "darwin":
        if x86:  # unsigned short control, status; unsigned int mxcsr; char reserved[8]
            return 16, 4, 4, _MXCSR_FTZ_DAZ
        if arm:  # unsigned long long fpsr, fpcr
            return 16, 8, 8, _FPCR_FZ
    return None


def subnormals_flushed() -> bool:
    """Whether this thread's arithmetic flushes a subnormal float32 result to zero."""
    tiny = np.array([1e-38], dtype=np.float32)
    return bool((tiny * np.float32(0.01))[0] == 0)


def _rounds_to_nearest() -> bool:
    one = np.array([1.0], dtype=np.float32)
    half_ulp = np.float32(2.0**-24)
    return bool((one + half_ulp)[0] == 1.0 and (one + 3 * half_ulp)[0] == np.float32(1 + 2.0**-22))


def _set_windows(flush: bool) -> bool:
    try:
        crt = ctypes.CDLL("msvcrt")
        _DN_FLUSH, _DN_SAVE, _MCW_DN = 0x01000000, 0x00000000, 0x03000000
        crt._controlfp(_DN_FLUSH if flush else _DN_SAVE, _MCW_DN)
    except (OSError, AttributeError):
        return False
    return subnormals_flushed() == flush


Env = ctypes.Array[ctypes.c_char]


def _bits() -> int:
    return _LAYOUT[3] if _LAYOUT is not None else 0


def _environment() -> tuple[Env, int] | None:
    """The thread's ``fenv_t`` (a buffer) and its control word, or None where unknown."""
    if _LAYOUT is None or _LIBM is None:
        return None
    size, offset, width, _ = _LAYOUT
    env = ctypes.create_string_buffer(size)
    if _LIBM.fegetenv(env) != 0:
        return None
    return env, int.from_bytes(env.raw[offset : offset + width], sys.byteorder)


def _with_word(env: Env, word: int) -> Env:
    """A copy of ``env`` whose control word is ``word``."""
    assert _LAYOUT is not None
    size, offset, width, _ = _LAYOUT
    raw = env.raw
    new = raw[:offset] + word.to_bytes(width, sys.byteorder) + raw[offset + width :]
    return ctypes.create_string_buffer(new, size)


def set_subnormals_flushed(flush: bool) -> bool:
    """Set (True) or clear (False) flush-to-zero in the calling thread, whatever
    ``BNVIZ_DENORMALS`` says (the bench runs PyTorch with the CPU's default beside bnviz).
    Returns whether the thread is now in the asked mode."""
    done = _set(flush)
    _thread.for_good = flush and done
    return done


def _set(flush: bool) -> bool:
    if subnormals_flushed() == flush:
        return True
    if sys.platform == "win32":
        return _set_windows(flush)
    got = _environment()
    if got is None or _LIBM is None:
        return False
    old, word = got
    new = _with_word(old, word | _bits() if flush else word & ~_bits())
    if _LIBM.fesetenv(new) != 0:
        return False
    if subnormals_flushed() == flush and _rounds_to_nearest():
        return True
    _LIBM.fesetenv(old)  # not the layout we thought: put the environment back as it was
    return False


_usable: bool | None = None  # whether this platform's layout was checked and works


def _check_usable() -> bool:
    """Once per process: whether :func:`set_subnormals_flushed` works here (it is tried, then
    the thread's mode is put back)."""
    global _usable
    if _usable is None:
        before = subnormals_flushed()
        _usable = sys.platform != "win32" and _set(not before)
        _set(before)
    return _usable


def steps_flushed() -> bool:
    """Whether :func:`flushed` flushes here (a known platform, not ``BNVIZ_DENORMALS=keep``)."""
    usable = _LAYOUT is not None and _LIBM is not None and _check_usable()
    return usable and os.environ.get(DENORMALS_ENV) != "keep"


class flushed:  # noqa: N801 - used like a function: ``with fpenv.flushed(): ...``
    """Subnormals flushed to zero in the calling thread inside the ``with`` block, the thread's
    floating-point environment put back as it was after it (a no-op where the mode is already
    on, ``BNVIZ_DENORMALS=keep`` is set, or the platform's layout is not known).

    ``hold=True`` is for a block that trains for long (a command's whole run): inside it, the
    nested per-step blocks do nothing instead of switching the mode twice a step.
    """

    __slots__ = ("_old", "_hold", "_held")

    def __init__(self, hold: bool = False) -> None:
        self._hold = hold
        self._held = False

    def __enter__(self) -> flushed:
        self._old: ctypes.Array[ctypes.c_char] | None = None
        self._held = getattr(_thread, "for_good", False)
        if self._held:
            return self
        self._switch()
        if self._hold:
            _thread.for_good = subnormals_flushed()
        return self

    def _switch(self) -> None:
        if os.environ.get(DENORMALS_ENV) == "keep" or not (_usable or _check_usable()):
            return
        got = _environment()
        if got is None or _LIBM is None:
            return
        old, word = got
        if word & _bits() != _bits() and _LIBM.fesetenv(_with_word(old, word | _bits())) == 0:
            self._old = old

    def __exit__(self, *exc: object) -> None:
        if self._hold and not self._held:
            _thread.for_good = False
        if self._old is not None and _LIBM is not None:
            _LIBM.fesetenv(self._old)


def flush_denormals() -> bool:
    """Flush subnormal floats to zero in the calling thread (see the module's docstring).

    Returns whether subnormals are now flushed; False (nothing changed) where the platform is not
    known, the C library refuses, or ``BNVIZ_DENORMALS=keep``.
    """
    if os.environ.get(DENORMALS_ENV, "").strip().lower() == "keep":
        return subnormals_flushed()
    return set_subnormals_flushed(True)


_LIBM = _libm()
_LAYOUT = _layout()

#!/usr/bin/python3
# run-example.py: runs a Python example against the build and source tree
#
# Usage: run-example.py EXAMPLE.py [ARGS...]
#
# Puts the override of this source tree (introspection/Aio.py) first on
# gi.overrides.__path__, then runs EXAMPLE.py as __main__, so that its
# plain `from gi.repository import Aio` gets this override whether or not
# one is installed.  GI_TYPELIB_PATH and LD_LIBRARY_PATH must point at the
# build tree's aio-glib/ folder (meson test sets them).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import runpy
import sys

import gi.overrides

introspection = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
gi.overrides.__path__.insert(0, introspection)

if len(sys.argv) < 2:
    sys.exit('usage: run-example.py EXAMPLE.py [ARGS...]')
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')

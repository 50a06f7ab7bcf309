# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The attributes every read-only module of runbook.ops shares (with ansible.builtin.action_common_attributes)."""

from __future__ import annotations


class ModuleDocFragment:
    # A module's own `attributes` entries are merged over these (a check_mode `details`, the platform).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads; it reports the same in check mode.
  diff_mode:
    support: none
"""

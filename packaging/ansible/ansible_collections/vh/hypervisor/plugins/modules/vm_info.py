#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: Apache-2.0
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vm_info
short_description: Read VMs of the vh hypervisor
version_added: 0.1.0
description:
  - Lists the VMs of a vh host through vhagent's REST API (every page),
    filtered by state or name prefix, or reads one VM by name or uuid,
    optionally with its statistics.
  - Changes nothing; runs the same in check mode.
author:
  - vh maintainers
options:
  name:
    description:
      - One VM, by name or uuid. The result then has its full definition
        (boot section and devices included) and, with I(stats), its
        counters. A VM that does not exist gives an empty I(vms).
    type: str
  state:
    description: Only the VMs in this state.
    type: str
    choices: [defined, running, paused, stopped, crashed]
  name_prefix:
    description: Only the VMs whose name starts with this.
    type: str
  stats:
    description:
      - Add each VM's counters (C(GET /v1/vms/{vm}/stats)) as its C(stats)
        member.
    type: bool
    default: false
extends_documentation_fragment:
  - vh.hypervisor.connection
seealso:
  - module: vh.hypervisor.vm
  - module: vh.hypervisor.host_info
'''

EXAMPLES = r'''
- name: Every running VM
  vh.hypervisor.vm_info:
    state: running
  register: running

- name: One VM with its counters
  vh.hypervisor.vm_info:
    name: web1
    stats: true
  register: web1

- ansible.builtin.debug:
    msg: "web1 used {{ web1.vms[0].stats.cpu.used_ms }} ms of CPU"
'''

RETURN = r'''
vms:
  description:
    - The VMs, in the order they were defined. Listed VMs have no boot
      section (as C(GET /v1/vms) returns them); a VM read by I(name) is
      complete.
  returned: always
  type: list
  elements: dict
  sample:
    - name: web1
      uuid: 6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7a1b2c
      vcpus: 2
      memory_mib: 256
      cpu: {shares: high, reservation_mhz: 500, limit_mhz: null}
      memory: {shares: normal, reservation_mib: 128, limit_mib: null}
      cosched: relaxed
      balloon: {target_mib: 0}
      state: running
      state_changes: 1
      boot_generation: 1
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vh.hypervisor.plugins.module_utils.vh_client import VhClient, module_args, run_module


def run(module, client):
    p = module.params
    if p['name']:
        vm, _ = client.get_vm(p['name'])
        vms = [vm] if vm is not None else []
        vms = [v for v in vms
               if (not p['state'] or v.get('state') == p['state'])
               and (not p['name_prefix'] or v.get('name', '').startswith(p['name_prefix']))]
    else:
        vms = client.list_vms(state=p['state'], name_prefix=p['name_prefix'])
    if p['stats']:
        for v in vms:
            v['stats'] = client.get(VhClient.vm_path(v['uuid'], '/stats'))
    return dict(changed=False, vms=vms)


def main():
    argument_spec = dict(
        name=dict(type='str'),
        state=dict(type='str', choices=['defined', 'running', 'paused', 'stopped', 'crashed']),
        name_prefix=dict(type='str'),
        stats=dict(type='bool', default=False),
    )
    run_module(AnsibleModule(**module_args(argument_spec)), run)


if __name__ == '__main__':
    main()

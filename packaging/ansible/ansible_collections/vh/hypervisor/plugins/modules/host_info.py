#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: Apache-2.0
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: host_info
short_description: Read a vh host's capacity and counters
version_added: 0.1.0
description:
  - Reads a vh host through vhagent's REST API - the version, pCPUs and
    MHz, memory, what is reserved and what is free (C(GET /v1/host)) - and,
    with I(stats), the counters of the host and of every VM
    (C(GET /v1/stats)).
  - Changes nothing; runs the same in check mode.
author:
  - vh maintainers
options:
  stats:
    description: Also return the host's and the VMs' counters.
    type: bool
    default: false
extends_documentation_fragment:
  - vh.hypervisor.connection
seealso:
  - module: vh.hypervisor.vm_info
'''

EXAMPLES = r'''
- name: How much CPU is left to reserve
  vh.hypervisor.host_info:
  register: h

- ansible.builtin.debug:
    msg: "{{ h.host.cpu.free_mhz }} MHz and {{ h.host.memory.free_mib }} MiB unreserved"
'''

RETURN = r'''
host:
  description: The host as C(GET /v1/host) describes it.
  returned: always
  type: dict
  sample:
    version: 0.1.0
    cpu: {pcpus: 2, mhz_per_pcpu: 2596, total_mhz: 5192, reserved_mhz: 500, free_mhz: 4692}
    memory: {total_mib: 4096, reserved_mib: 128, free_mib: 3968}
    vms: {defined: 3, powered_on: 2, max: 1024}
stats:
  description: The counters of the host and every VM (C(GET /v1/stats)).
  returned: when I(stats) is true
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vh.hypervisor.plugins.module_utils.vh_client import module_args, run_module


def run(module, client):
    result = dict(changed=False, host=client.get('/v1/host'))
    if module.params['stats']:
        result['stats'] = client.get('/v1/stats')
    return result


def main():
    run_module(AnsibleModule(**module_args(dict(stats=dict(type='bool', default=False)))), run)


if __name__ == '__main__':
    main()

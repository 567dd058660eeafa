#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: Apache-2.0
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: vm
short_description: Define, change, power and remove VMs of the vh hypervisor
version_added: 0.1.0
description:
  - Brings one VM of a vh host, through vhagent's REST API, to the state
    asked for - defined with the given size, CPU and memory controls, boot
    images and balloon target, and powered on, paused, off, or removed.
  - Idempotent; only the options given are managed (the VM keeps what the
    others say). Supports check mode and diff mode.
  - Changes are conditional on the VM's ETag, so a VM changed by someone
    else between the read and the write fails the task instead of being
    overwritten.
author:
  - vh maintainers
options:
  name:
    description:
      - The VM's name (1 to 63 letters, digits, '.', '_' or '-', starting
        with a letter or digit).
    type: str
    required: true
  state:
    description:
      - C(present) defines the VM (or changes it) and leaves its power state
        alone; a new VM is left powered off.
      - C(running), C(stopped) and C(paused) define it too, then power it
        on (or resume it), off, or pause it.
      - C(absent) removes it; a running or paused VM needs I(force).
    type: str
    choices: [present, absent, running, stopped, paused]
    default: present
  force:
    description:
      - Allow what powers a running or paused guest off without its
        consent - C(state=stopped), C(state=absent), and changes of
        I(vcpus), I(memory_mib), I(cosched), I(boot), I(devices) or I(disks), which
        apply only while the VM is off (with I(force) the VM is powered
        off, changed, and brought back to its state).
    type: bool
    default: false
  vcpus:
    description: Virtual CPUs (1 to 64; 1 for a new VM when not given).
    type: int
  memory_mib:
    description: Memory in MiB (64 for a new VM when not given).
    type: int
  cpu:
    description:
      - CPU controls, applied at run time; a larger reservation of a
        powered-on VM is admission-controlled.
    type: dict
    suboptions:
      shares:
        description:
          - C(low), C(normal), C(high) (500, 1000, 2000 per vCPU) or a custom
            number of shares for the VM (1 to 1000000).
        type: raw
      reservation_mhz:
        description: MHz guaranteed to the VM (0 for none).
        type: int
      limit_mhz:
        description:
          - The most MHz the VM may use, or C(unlimited).
        type: raw
  memory:
    description:
      - Memory controls, applied at run time (admission-controlled).
    type: dict
    suboptions:
      shares:
        description:
          - C(low), C(normal), C(high) (5, 10, 20 per MiB) or a custom number
            of shares for the VM.
        type: raw
      reservation_mib:
        description: MiB guaranteed to the VM, at most I(memory_mib).
        type: int
      limit_mib:
        description:
          - The most MiB the VM may hold in host memory, or C(unlimited).
        type: raw
  cosched:
    description: Co-scheduling of the VM's vCPUs.
    type: str
    choices: [relaxed, strict, none]
  boot:
    description: What the VM boots; the images must have been uploaded.
    type: dict
    suboptions:
      kernel:
        description:
          - The image the VM boots; C('') for none. Its kind comes from its contents
            (Multiboot, a Linux bzImage or a PVH ELF).
        type: str
      initrd:
        description: A Linux kernel's initial RAM disk (an image); C('') for none.
        type: str
      cmdline:
        description: The kernel's command line.
        type: str
      kind:
        description: C(auto) (from the contents), or a raw binary (C(raw16), C(raw32)).
        type: str
        choices: [auto, raw16, raw32]
      modules:
        description: Multiboot modules, in order.
        type: list
        elements: dict
        suboptions:
          image:
            description: The module's image.
            type: str
            required: true
          cmdline:
            description: The module's string.
            type: str
  devices:
    description:
      - The VM's devices, each at most once (order does not matter).
    type: list
    elements: str
    choices: [uart16550, debug_exit, fw_cfg, balloon]
  disks:
    description:
      - The VM's datastore disks in boot order (at most 8; C([]) for none);
        each must exist (M(vh.hypervisor.disk)). A disk attached read-write
        to another VM is refused. Changes only while the VM is off.
    type: list
    elements: dict
    suboptions:
      disk:
        description: The disk's name in the datastore.
        type: str
        required: true
      readonly:
        description: The guest may only read it.
        type: bool
        default: false
  balloon:
    description: The balloon (needs the C(balloon) device to act).
    type: dict
    suboptions:
      target_mib:
        description: MiB the guest's balloon driver should hand back (0 for none).
        type: int
extends_documentation_fragment:
  - vh.hypervisor.connection
seealso:
  - module: vh.hypervisor.vm_info
  - module: vh.hypervisor.host_info
'''

EXAMPLES = r'''
- name: A web server with high CPU shares and a reservation, running
  vh.hypervisor.vm:
    name: web1
    vcpus: 2
    memory_mib: 256
    cpu:
      shares: high
      reservation_mhz: 500
      limit_mhz: unlimited
    memory:
      shares: normal
      reservation_mib: 128
    boot:
      kernel: spinner.elf
      cmdline: ''
    state: running

- name: A VM booting from a datastore disk, with a shared read-only one
  vh.hypervisor.vm:
    name: db1
    memory_mib: 512
    boot:
      kernel: vmlinuz
    disks:
      - disk: db1-root
      - disk: tools
        readonly: true

- name: Cap a batch VM at 300 MHz and ask its balloon for 64 MiB back
  vh.hypervisor.vm:
    name: batch7
    cpu:
      limit_mhz: 300
    balloon:
      target_mib: 64

- name: The same over HTTPS with a token
  vh.hypervisor.vm:
    url: https://vh-host1.example:8443
    ca_cert: /etc/vh/host1-cert.pem
    token: "{{ vh_operator_token }}"
    name: web1
    state: paused

- name: Gone, even if it runs
  vh.hypervisor.vm:
    name: scratch
    state: absent
    force: true
'''

RETURN = r'''
vm:
  description:
    - The VM as the agent describes it after the task (in check mode, as it
      would be). Absent when the VM was removed or never existed.
  returned: when the VM exists at the end
  type: dict
  sample:
    name: web1
    uuid: 6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7a1b2c
    vcpus: 2
    memory_mib: 256
    cpu: {shares: high, reservation_mhz: 500, limit_mhz: null}
    memory: {shares: normal, reservation_mib: 128, limit_mib: null}
    cosched: relaxed
    boot: {kernel: spinner.elf, cmdline: '', modules: []}
    devices: [uart16550, debug_exit]
    disks: [{disk: web1-root, readonly: false}]
    balloon: {target_mib: 0}
    state: running
actions:
  description: The API requests made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["PATCH /v1/vms/web1", "PUT /v1/vms/web1/power running"]
error:
  description: The agent's problem details when it refused a request.
  returned: on failure
  type: dict
  sample: {status: 409, code: admission, field: cpu.reservation_mhz, detail: "..."}
'''

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vh.hypervisor.plugins.module_utils.vh_client import VhClient, module_args, run_module

# Members that change only while the VM is off (the API answers 409 for
# them while it runs or is paused).
OFFLINE_KEYS = ('vcpus', 'memory_mib', 'cosched', 'boot', 'devices', 'disks')
# What the diff shows.
DIFF_KEYS = ('name', 'vcpus', 'memory_mib', 'cpu', 'memory', 'cosched', 'boot', 'devices', 'disks', 'balloon',
             'state')
POWERED = ('running', 'paused')
SHARE_LEVELS = ('low', 'normal', 'high')


class ParamError(Exception):
    pass


def _shares(value, what):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParamError('%s: low, normal, high or a number of shares, not %r' % (what, value))
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value in SHARE_LEVELS:
        return value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    else:
        raise ParamError('%s: low, normal, high or a number of shares, not %r' % (what, value))
    if not 1 <= n <= 1000000:
        raise ParamError('%s: %d shares outside 1..1000000' % (what, n))
    return n


# The API's "no limit" is JSON null; an option left out must mean "not
# managed", so the playbook says "unlimited".
UNLIMITED = object()


def _limit(value, what):
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == 'unlimited':
        return UNLIMITED
    if isinstance(value, bool):
        raise ParamError('%s: a number or "unlimited", not %r' % (what, value))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1:
        raise ParamError('%s: a number (at least 1) or "unlimited", not %r' % (what, value))
    return value


def _json_value(v):
    return None if v is UNLIMITED else v


def _controls(c, what, unit):
    """The members of the cpu or memory option (what) that are given: shares,
    reservation_<unit> and limit_<unit>."""
    sub = {}
    if c.get('shares') is not None:
        sub['shares'] = _shares(c['shares'], what + '.shares')
    reservation, limit = 'reservation_' + unit, 'limit_' + unit
    if c.get(reservation) is not None:
        sub[reservation] = c[reservation]
    if c.get(limit) is not None:
        sub[limit] = _limit(c[limit], what + '.' + limit)
    return sub


def desired_from_params(p):
    """The members the task manages, in the API's terms (UNLIMITED for a
    null limit)."""
    want = {}
    for k in ('vcpus', 'memory_mib', 'cosched'):
        if p[k] is not None:
            want[k] = p[k]
    if p['devices'] is not None:
        want['devices'] = list(p['devices'])
    if p['disks'] is not None:
        # The API's form, readonly spelled out: boot order matters.
        want['disks'] = [{'disk': d['disk'], 'readonly': bool(d.get('readonly'))} for d in p['disks']]
    for what, unit in (('cpu', 'mhz'), ('memory', 'mib')):
        if p[what] is not None:
            sub = _controls(p[what], what, unit)
            if sub:
                want[what] = sub
    if p['boot'] is not None:
        b = p['boot']
        sub = {}
        for k in ('kernel', 'initrd', 'cmdline', 'kind'):
            if b.get(k) is not None:
                sub[k] = b[k]
        if b.get('modules') is not None:
            sub['modules'] = [{'image': mod['image'], 'cmdline': mod.get('cmdline') or ''}
                              for mod in b['modules']]
        if sub:
            want['boot'] = sub
    if p['balloon'] is not None and p['balloon'].get('target_mib') is not None:
        want['balloon'] = {'target_mib': p['balloon']['target_mib']}
    return want


def _same(key, sub, want, have):
    """Whether the VM's value already is the wanted one."""
    if want is UNLIMITED:
        return have is None
    if key == 'devices':
        return sorted(want) == sorted(have or [])
    if key == 'disks':
        return want == [{'disk': d.get('disk'), 'readonly': bool(d.get('readonly'))} for d in (have or [])]
    if sub == 'modules':
        norm = [{'image': m.get('image'), 'cmdline': m.get('cmdline') or ''} for m in (have or [])]
        return norm == want
    if key == 'balloon' and sub == 'target_mib':
        return (have or 0) == want
    return want == have


def compute_patch(want, vm):
    """The JSON merge patch that makes vm what want says (only the
    members that differ)."""
    patch = {}
    for k, v in want.items():
        if isinstance(v, dict):
            have = vm.get(k) or {}
            sub = dict((s, _json_value(sv)) for s, sv in v.items() if not _same(k, s, sv, have.get(s)))
            if sub:
                patch[k] = sub
        elif not _same(k, None, v, vm.get(k)):
            patch[k] = v
    return patch


def create_body(name, want):
    body = {'name': name}
    for k, v in want.items():
        body[k] = dict((s, _json_value(sv)) for s, sv in v.items()) if isinstance(v, dict) else v
    return body


def apply_patch(vm, patch):
    out = copy.deepcopy(vm)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k].update(v)
        else:
            out[k] = v
    return out


def power_steps(current, wanted):
    """The PUT .../power states that take a VM from current to wanted."""
    if wanted == 'running':
        return [] if current == 'running' else ['running']
    if wanted == 'paused':
        if current == 'paused':
            return []
        return ['paused'] if current == 'running' else ['running', 'paused']
    if wanted == 'stopped':
        return [] if current in ('defined', 'stopped') else ['stopped']
    return []


def diff_view(vm):
    if vm is None:
        return {}
    return dict((k, vm.get(k)) for k in DIFF_KEYS if k in vm)


class Runner:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.check = module.check_mode
        self.actions = []
        self.etag = None
        self.vm = None

    def call(self, method, tail, body=None, query=None, content_type='application/json', note=''):
        path = VhClient.vm_path(self.module.params['name'], tail) if tail is not None else '/v1/vms'
        self.actions.append(('%s %s %s' % (method, path, note)).strip())
        if self.check:
            return None
        headers = {'If-Match': self.etag} if self.etag and method != 'POST' else None
        _, h, doc = self.client.request(method, path, body=body, query=query, headers=headers,
                                        content_type=content_type)
        self.etag = h.get('etag')
        return doc

    def power(self, state):
        body = {'state': state}
        if state == 'stopped' and self.vm.get('state') in POWERED:
            body['force'] = True
        doc = self.call('PUT', '/power', body=body, note=state)
        if doc is not None:
            self.vm = doc
        else:
            self.vm = dict(self.vm, state=state)

    def patch(self, patch):
        doc = self.call('PATCH', '', body=patch, content_type='application/merge-patch+json')
        self.vm = doc if doc is not None else apply_patch(self.vm, patch)


def run(module, client):
    p = module.params
    name, state, force = p['name'], p['state'], p['force']
    r = Runner(module, client)
    try:
        want = desired_from_params(p)
    except ParamError as e:
        module.fail_json(msg=str(e))

    vm, r.etag = client.get_vm(name)
    before = diff_view(vm)

    if state == 'absent':
        if vm is None:
            return dict(changed=False, actions=[], diff=dict(before={}, after={}))
        if vm.get('state') in POWERED and not force:
            module.fail_json(msg='VM %s is %s: removing it powers the guest off; set force: true'
                             % (name, vm['state']))
        query = {'force': 'true'} if vm.get('state') in POWERED else None
        r.call('DELETE', '', query=query)
        return dict(changed=True, actions=r.actions, diff=dict(before=before, after={}))

    wanted_power = state if state in ('running', 'stopped', 'paused') else None
    if vm is None:
        body = create_body(name, want)
        doc = r.call('POST', None, body=body, note='(create)')
        if doc is not None:
            r.vm = doc
        else:
            # What check mode shows: the members given, the rest as the
            # agent's defaults will have them.
            r.vm = dict(create_body(name, dict((k, v) for k, v in want.items())), state='defined')
            for k in ('cpu', 'memory', 'balloon', 'boot'):
                if isinstance(r.vm.get(k), dict):
                    r.vm[k] = dict((s, _json_value(sv)) for s, sv in r.vm[k].items())
        for s in power_steps('defined', wanted_power):
            r.power(s)
    else:
        r.vm = vm
        patch = compute_patch(want, vm)
        offline = [k for k in OFFLINE_KEYS if k in patch]
        current = vm.get('state')
        if offline and current in POWERED and wanted_power != 'stopped':
            if not force:
                module.fail_json(msg='VM %s is %s and %s change only while it is off: set force: true to '
                                 'power it off, change it and bring it back, or state: stopped'
                                 % (name, current, ', '.join(offline)))
            back = wanted_power or current
            r.power('stopped')
            r.patch(patch)
            for s in power_steps('stopped', back):
                r.power(s)
        else:
            steps = power_steps(current, wanted_power)
            if steps == ['stopped'] and current in POWERED and not force:
                module.fail_json(msg='VM %s is %s: stopping it powers the guest off; set force: true'
                                 % (name, current))
            # Off first when it is to end off (offline members then apply);
            # changes before power-on otherwise (a larger reservation is
            # admitted with the VM).
            if wanted_power == 'stopped':
                for s in steps:
                    r.power(s)
                if patch:
                    r.patch(patch)
            else:
                if patch:
                    r.patch(patch)
                for s in steps:
                    r.power(s)

    changed = bool(r.actions)
    return dict(changed=changed, vm=r.vm, actions=r.actions,
                diff=dict(before=before, after=diff_view(r.vm)))


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent', 'running', 'stopped', 'paused']),
        force=dict(type='bool', default=False),
        vcpus=dict(type='int'),
        memory_mib=dict(type='int'),
        cpu=dict(type='dict', options=dict(
            shares=dict(type='raw'),
            reservation_mhz=dict(type='int'),
            limit_mhz=dict(type='raw'),
        )),
        memory=dict(type='dict', options=dict(
            shares=dict(type='raw'),
            reservation_mib=dict(type='int'),
            limit_mib=dict(type='raw'),
        )),
        cosched=dict(type='str', choices=['relaxed', 'strict', 'none']),
        boot=dict(type='dict', options=dict(
            kernel=dict(type='str'),
            initrd=dict(type='str'),
            cmdline=dict(type='str'),
            kind=dict(type='str', choices=['auto', 'raw16', 'raw32']),
            modules=dict(type='list', elements='dict', options=dict(
                image=dict(type='str', required=True),
                cmdline=dict(type='str'),
            )),
        )),
        devices=dict(type='list', elements='str', choices=['uart16550', 'debug_exit', 'fw_cfg', 'balloon']),
        disks=dict(type='list', elements='dict', options=dict(
            disk=dict(type='str', required=True),
            readonly=dict(type='bool', default=False),
        )),
        balloon=dict(type='dict', options=dict(target_mib=dict(type='int'))),
    )
    run_module(AnsibleModule(**module_args(argument_spec)), run)


if __name__ == '__main__':
    main()

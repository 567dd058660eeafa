#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: Apache-2.0
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: disk
short_description: Create, import, grow and remove disks in a vh host's datastore
version_added: 0.1.0
description:
  - Brings one disk of a vh host's datastore (raw, sparse files that VMs
    name in their I(disks)) to the state asked for, through vhagent's REST
    API (C(/v1/disks)).
  - A missing disk is made empty and thin of I(size), or imported from
    I(source), a raw image on the managed host, checked against its
    SHA-256. An existing disk is grown to I(size) when smaller; a disk
    never shrinks (a smaller I(size) fails the task) and is never
    re-imported (its contents are the guest's).
  - Idempotent; supports check mode and diff mode.
author:
  - vh maintainers
options:
  name:
    description:
      - The disk's name (1 to 63 letters, digits, '.', '_' or '-', starting
        with a letter or digit).
    type: str
    required: true
  state:
    description:
      - C(present) creates, imports or grows it; C(absent) deletes it (the
        agent refuses while a VM's definition names the disk).
    type: str
    choices: [present, absent]
    default: present
  size:
    description:
      - The disk's size in bytes, or with a binary unit (C(512M), C(10G),
        C(1T)); a whole number of 512-byte sectors. Required to create an
        empty disk; with I(source), the disk is grown to it after the
        import when larger.
    type: str
  source:
    description:
      - A raw disk image on the managed host, imported when the disk does
        not exist yet.
    type: path
  sha256:
    description:
      - The expected SHA-256 of I(source) (computed from the file when not
        given); the agent keeps the import only if the bytes match.
    type: str
extends_documentation_fragment:
  - vh.hypervisor.connection
seealso:
  - module: vh.hypervisor.vm
'''

EXAMPLES = r'''
- name: An empty 10 GiB thin disk
  vh.hypervisor.disk:
    name: web1-root
    size: 10G

- name: A disk from a raw image, then grown to 20 GiB
  vh.hypervisor.disk:
    name: db1-root
    source: /srv/images/debian-12.raw
    size: 20G

- name: Gone (refused while a VM names it)
  vh.hypervisor.disk:
    name: scratch
    state: absent
'''

RETURN = r'''
disk:
  description:
    - The disk as the agent describes it after the task (in check mode, as
      it would be). Absent when it was removed or never existed.
  returned: when the disk exists at the end
  type: dict
  sample:
    name: web1-root
    size: 10737418240
    allocated: 4096
    modified: '2024-05-01T12:00:00Z'
    attached: [{vm: web1, readonly: false}]
actions:
  description: The API requests made (or, in check mode, that would be made), in order.
  returned: always
  type: list
  elements: str
  sample: ["POST /v1/disks (create)"]
error:
  description: The agent's problem details when it refused a request.
  returned: on failure
  type: dict
  sample: {status: 507, code: insufficient_storage, field: size, detail: "..."}
'''

import hashlib
import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.vh.hypervisor.plugins.module_utils.vh_client import VhClient, module_args, run_module

UNITS = {'': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}


def parse_size(value):
    """Bytes from 4096, '4096', '512M', '10G', '1T' (binary units)."""
    m = re.match(r'^\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*$', str(value), re.IGNORECASE)
    if not m:
        raise ValueError('size: %r is not a size (bytes, or with K, M, G, T)' % (value,))
    n = int(m.group(1)) * UNITS[m.group(2).upper()]
    if n <= 0 or n % 512:
        raise ValueError('size: %d bytes is not a positive whole number of 512-byte sectors' % n)
    return n


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def diff_view(disk):
    return dict((k, disk[k]) for k in ('name', 'size') if k in disk) if disk else {}


def run(module, client):
    p = module.params
    name, state, check = p['name'], p['state'], module.check_mode
    actions = []
    try:
        size = parse_size(p['size']) if p['size'] is not None else None
    except ValueError as e:
        module.fail_json(msg=str(e))
    path = VhClient.disk_path(name)
    disk = client.get_disk(name)
    before = diff_view(disk)

    if state == 'absent':
        if disk is None:
            return dict(changed=False, actions=[], diff=dict(before={}, after={}))
        actions.append('DELETE %s' % path)
        if not check:
            client.request('DELETE', path)
        return dict(changed=True, actions=actions, diff=dict(before=before, after={}))

    if disk is None:
        if p['source']:
            src = p['source']
            if not os.path.isfile(src):
                module.fail_json(msg='source: %s is not a file on the managed host' % src)
            length = os.path.getsize(src)
            digest = p['sha256'] or sha256_of(src)
            actions.append('PUT %s (import %s)' % (path, src))
            if check:
                disk = dict(name=name, size=length + (-length % 512), allocated=0, attached=[])
            else:
                with open(src, 'rb') as f:
                    disk = client.request('PUT', path, query={'sha256': digest}, raw=(f, length),
                                          content_type='application/octet-stream')[2]
        else:
            if size is None:
                module.fail_json(msg='disk %s does not exist: give size (an empty disk) or source '
                                 '(an image to import)' % name)
            actions.append('POST /v1/disks (create)')
            if check:
                disk = dict(name=name, size=size, allocated=0, attached=[])
            else:
                disk = client.request('POST', '/v1/disks', body={'name': name, 'size': size})[2]
    if size is not None and size != disk.get('size'):
        if size < disk.get('size', 0):
            module.fail_json(msg='disk %s has %d bytes and disks never shrink (size %d)'
                             % (name, disk['size'], size))
        actions.append('PATCH %s (grow to %d)' % (path, size))
        if check:
            disk = dict(disk, size=size)
        else:
            disk = client.request('PATCH', path, body={'size': size})[2]
    return dict(changed=bool(actions), disk=disk, actions=actions,
                diff=dict(before=before, after=diff_view(disk)))


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        size=dict(type='str'),
        source=dict(type='path'),
        sha256=dict(type='str'),
    )
    run_module(AnsibleModule(**module_args(argument_spec)), run)


if __name__ == '__main__':
    main()

# SPDX-License-Identifier: Apache-2.0
# -*- coding: utf-8 -*-
# The connection options every module of vh.hypervisor takes (see
# plugins/module_utils/vh_client.py, CONNECTION_ARGS).
#
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r'''
options:
  url:
    description:
      - The agent's HTTPS (or loopback HTTP) address, C(https://HOST:PORT).
      - Mutually exclusive with I(socket). When neither is given the
        agent's unix socket C(/run/vh/agent.sock) is used.
      - The environment variable C(VH_AGENT_URL) is used when not set.
    type: str
  socket:
    description:
      - The path of the agent's unix socket. On the socket the agent trusts
        the caller's credentials (root and the C(vh) group act as admin)
        and no token is needed.
      - The environment variable C(VH_AGENT_SOCKET) is used when not set.
    type: path
  token:
    description:
      - A bearer token (C(vh_<id>_<secret>)) from C(vhagent token create);
        needed over HTTPS. Its role must be C(operator) or C(admin) to make
        changes, C(viewer) is enough to read.
      - Never logged. The environment variable C(VH_TOKEN) is used when not
        set.
    type: str
  ca_cert:
    description:
      - A PEM file with the certificate (or CA) that the agent's HTTPS
        certificate must chain to, e.g. the agent's own self-signed
        C(/var/lib/vh/tls/cert.pem). The system's CAs when not set.
    type: path
  client_cert:
    description:
      - A PEM client certificate, for an agent that requires one
        (C(tls_client_ca) in its configuration).
    type: path
  client_key:
    description:
      - The private key of I(client_cert), when not in the same file.
    type: path
  validate_certs:
    description:
      - Check the agent's certificate and host name. Turn off only for
        tests.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the agent on each request.
    type: int
    default: 30
notes:
  - The modules talk to the agent from the host they run on. With several
    agents, give each inventory host its own I(url) or I(socket), and set
    C(ansible_connection=local) when the agents are reachable from the
    controller.
'''

# SPDX-License-Identifier: Apache-2.0
# -*- coding: utf-8 -*-
# A small client of vhagent's REST API (api/openapi.yaml in the vh tree)
# for the modules of vh.hypervisor: HTTP over the agent's unix socket, or
# HTTPS with a CA certificate and a bearer token.  Only the standard
# library, so the modules run on any host with Python 3.
#
# Licensed under the Apache License, Version 2.0.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import json
import socket
import ssl
from urllib.parse import quote, urlencode, urlsplit

from ansible.module_utils.basic import env_fallback

DEFAULT_SOCKET = '/run/vh/agent.sock'

# The connection options every module of the collection takes (their
# documentation is the doc fragment vh.hypervisor.connection).
CONNECTION_ARGS = dict(
    url=dict(type='str', fallback=(env_fallback, ['VH_AGENT_URL'])),
    socket=dict(type='path', fallback=(env_fallback, ['VH_AGENT_SOCKET'])),
    token=dict(type='str', no_log=True, fallback=(env_fallback, ['VH_TOKEN'])),
    ca_cert=dict(type='path'),
    client_cert=dict(type='path'),
    client_key=dict(type='path', no_log=False),
    validate_certs=dict(type='bool', default=True),
    timeout=dict(type='int', default=30),
)
CONNECTION_EXCLUSIVE = [('url', 'socket')]


class VhApiError(Exception):
    """An error answer of the agent (RFC 9457 problem details) or a
    transport failure (status 0)."""

    def __init__(self, status, code, detail, field=None, method=None, path=None):
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.method = method
        self.path = path
        super(VhApiError, self).__init__(self.message())

    def message(self):
        where = '%s %s: ' % (self.method, self.path) if self.method else ''
        what = '%s (%s' % (self.detail, self.code)
        if self.field:
            what += ', field %s' % self.field
        if self.status:
            what += ', HTTP %d' % self.status
        return where + what + ')'

    def as_dict(self):
        return dict(status=self.status, code=self.code, detail=self.detail, field=self.field)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket: the agent's default transport, where
    the peer's credentials (root, the vh group) stand for a token."""

    def __init__(self, path, timeout):
        http.client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self._unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._unix_path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


class VhClient:
    """One keep-alive connection to one agent."""

    def __init__(self, url=None, socket=None, token=None, ca_cert=None, client_cert=None,
                 client_key=None, validate_certs=True, timeout=30):
        self.token = token
        self.timeout = timeout
        self._conn = None
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ('https', 'http') or not parts.hostname:
                raise VhApiError(0, 'bad_url', 'url must be https://HOST[:PORT] or http://HOST[:PORT], not %r' % url)
            if parts.path not in ('', '/'):
                raise VhApiError(0, 'bad_url', 'url must not have a path (the API is at /v1 of the agent): %r' % url)
            self.scheme = parts.scheme
            self.host = parts.hostname
            self.port = parts.port or (8443 if parts.scheme == 'https' else 80)
            self.where = url
            self.unix_path = None
            self.ssl_context = None
            if parts.scheme == 'https':
                ctx = ssl.create_default_context(cafile=ca_cert)
                if not validate_certs:
                    ctx.check_hostname = False
                    ctx.verify_mode = ssl.CERT_NONE
                if client_cert:
                    ctx.load_cert_chain(client_cert, client_key)
                self.ssl_context = ctx
        else:
            self.scheme = 'unix'
            self.unix_path = socket or DEFAULT_SOCKET
            self.where = 'unix:' + self.unix_path

    def _connection(self):
        if self._conn is None:
            if self.scheme == 'unix':
                self._conn = _UnixHTTPConnection(self.unix_path, self.timeout)
            elif self.scheme == 'https':
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                         context=self.ssl_context)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method, path, body=None, query=None, headers=None,
                content_type='application/json', raw=None):
        """Returns (status, headers, decoded JSON or None).  Error answers
        (4xx, 5xx) raise VhApiError with the problem's code and field.
        raw: (file object, length) streamed as the body instead of JSON
        (a disk import); such a request is never repeated."""
        if query:
            path = path + '?' + urlencode(query)
        hdrs = {'Accept': 'application/json'}
        if self.token:
            hdrs['Authorization'] = 'Bearer ' + self.token
        data = None
        if body is not None:
            data = json.dumps(body, separators=(',', ':')).encode('utf-8')
        elif raw is not None:
            data = raw[0]
            hdrs['Content-Length'] = str(raw[1])
        if body is not None or method not in ('GET', 'HEAD'):
            # A request that changes something names its type even with
            # no body: the agent refuses it otherwise (415), so that no
            # browser can send it cross-site.
            hdrs['Content-Type'] = content_type
        if headers:
            hdrs.update(headers)
        # A keep-alive connection the agent closed in between (its idle
        # timeout) is reopened once, for methods that are safe to repeat.
        for attempt in (0, 1):
            reused = self._conn is not None
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (OSError, http.client.HTTPException) as e:
                self.close()
                stale = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError))
                if attempt == 0 and reused and stale and method in ('GET', 'PUT', 'DELETE') and raw is None:
                    continue
                raise VhApiError(0, 'transport', 'cannot reach the agent at %s: %s' % (self.where, e),
                                 method=method, path=path)
        rheaders = dict((k.lower(), v) for k, v in resp.getheaders())
        doc = None
        if raw:
            try:
                doc = json.loads(raw.decode('utf-8'))
            except ValueError:
                doc = None
        if resp.status >= 400:
            if isinstance(doc, dict) and 'code' in doc:
                raise VhApiError(resp.status, doc.get('code'), doc.get('detail', ''), doc.get('field'),
                                 method=method, path=path)
            raise VhApiError(resp.status, 'http_%d' % resp.status, raw[:200].decode('utf-8', 'replace'),
                             method=method, path=path)
        if rheaders.get('connection', '').lower() == 'close':
            self.close()
        return resp.status, rheaders, doc

    # ---- resources -------------------------------------------------------
    @staticmethod
    def vm_path(name, tail=''):
        return '/v1/vms/' + quote(name, safe='') + tail

    def get_vm(self, name):
        """(vm, etag), or (None, None) when there is no such VM."""
        try:
            _, h, doc = self.request('GET', self.vm_path(name))
        except VhApiError as e:
            if e.status == 404 and e.code == 'not_found':
                return None, None
            raise
        return doc, h.get('etag')

    def list_vms(self, state=None, name_prefix=None):
        """Every VM (all pages), as the list returns them (no boot section)."""
        items, token = [], None
        while True:
            q = {'limit': 1000}
            if state:
                q['state'] = state
            if name_prefix:
                q['name_prefix'] = name_prefix
            if token:
                q['page_token'] = token
            _, _, doc = self.request('GET', '/v1/vms', query=q)
            items.extend(doc.get('items', []))
            token = doc.get('next_page_token')
            if not token:
                return items

    def get(self, path):
        return self.request('GET', path)[2]

    @staticmethod
    def disk_path(name):
        return '/v1/disks/' + quote(name, safe='')

    def get_disk(self, name):
        """The disk, or None when there is no such disk."""
        try:
            return self.get(self.disk_path(name))
        except VhApiError as e:
            if e.status == 404 and e.code == 'not_found':
                return None
            raise


def client_from_module(module):
    p = module.params
    try:
        return VhClient(url=p.get('url'), socket=p.get('socket'), token=p.get('token'),
                        ca_cert=p.get('ca_cert'), client_cert=p.get('client_cert'),
                        client_key=p.get('client_key'), validate_certs=p.get('validate_certs'),
                        timeout=p.get('timeout'))
    except VhApiError as e:
        module.fail_json(msg=e.message(), error=e.as_dict())
    except (OSError, ssl.SSLError) as e:
        module.fail_json(msg='cannot set up TLS: %s' % e)


def module_args(argument_spec):
    """AnsibleModule's arguments for a module of the collection: its own
    options, then the connection options; check mode supported."""
    spec = dict(argument_spec)
    spec.update(CONNECTION_ARGS)
    return dict(argument_spec=spec, supports_check_mode=True, mutually_exclusive=CONNECTION_EXCLUSIVE)


def run_module(module, run):
    """Connects to the agent, calls run(module, client) and exits with the
    dict it returns; an error answer of the agent fails the task."""
    client = client_from_module(module)
    try:
        result = run(module, client)
    except VhApiError as e:
        module.fail_json(msg=e.message(), error=e.as_dict())
    finally:
        client.close()
    module.exit_json(**result)

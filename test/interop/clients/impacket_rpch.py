"""RPC over HTTP v2 through the gateway with impacket: RTS handshake, bind to the endpoint mapper, ept_lookup."""
import argparse
import sys
import time

from impacket.dcerpc.v5 import epm, transport
from impacket.http import AUTH_BASIC, AUTH_NTLM

p = argparse.ArgumentParser()
p.add_argument('--url', required=True)
p.add_argument('--user', required=True)
p.add_argument('--password', required=True)
p.add_argument('--domain', default='LAB')
p.add_argument('--auth', choices=['ntlm', 'basic'], default='ntlm')
a = p.parse_args()

t0 = time.time()
rt = transport.DCERPCTransportFactory('ncacn_http:EXCH01[593]')
rt.set_rpc_proxy_url(a.url)
rt.set_credentials(a.user, a.password, a.domain)
rt.set_auth_type(AUTH_NTLM if a.auth == 'ntlm' else AUTH_BASIC)
dce = rt.get_dce_rpc()
try:
    dce.connect()
    entries = epm.hept_lookup(None, dce=dce)
    dce.disconnect()
except Exception as e:  # noqa: BLE001 - report any failure as a failed run
    print(f'FAILED: {e}')
    sys.exit(1)
print(f'OK entries={len(entries)} seconds={time.time() - t0:.3f}')

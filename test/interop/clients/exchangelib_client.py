"""exchangelib through the gateway: POX or SOAP Autodiscover (cache pre-seeded, no DNS), then EWS calls."""
import argparse
import sys
import time

from exchangelib import DELEGATE, Account, Build, Configuration, Credentials, Version
from exchangelib.autodiscover import autodiscover_cache, clear_cache
from exchangelib.autodiscover.protocol import AutodiscoverProtocol
from exchangelib.protocol import BaseProtocol, FailFast, NoVerifyHTTPAdapter
from exchangelib.transport import NTLM

BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter

p = argparse.ArgumentParser()
p.add_argument('mode', choices=['pox', 'soap', 'ews'])
p.add_argument('--base', required=True)
p.add_argument('--user', required=True)
p.add_argument('--email', required=True)
p.add_argument('--password', required=True)
a = p.parse_args()

t0 = time.time()
creds = Credentials(a.user, a.password)
try:
    if a.mode == 'ews':
        cfg = Configuration(service_endpoint=f'{a.base}/EWS/Exchange.asmx', credentials=creds, auth_type=NTLM,
                            version=Version(build=Build(15, 2, 1118, 7)), retry_policy=FailFast())
        acc = Account(a.email, config=cfg, autodiscover=False, access_type=DELEGATE)
    else:
        clear_cache()
        path = '/Autodiscover/Autodiscover.xml' if a.mode == 'pox' else '/autodiscover/autodiscover.svc'
        autodiscover_cache[(a.email.split('@')[1], creds)] = AutodiscoverProtocol(config=Configuration(
            service_endpoint=f'{a.base}{path}', credentials=creds, auth_type=NTLM, retry_policy=FailFast()))
        acc = Account(a.email, credentials=creds, autodiscover=a.mode, access_type=DELEGATE)
        print(f'ews_url={acc.protocol.service_endpoint}')
        ad = acc.ad_response
        if a.mode == 'pox':
            print('protocols=' + ','.join(sorted(str(p.type) for p in ad.account.protocols)))
            urls = [v for p in ad.account.protocols for v in (p.ews_url, p.oab_url, p.as_url) if v]
            print('hosts=' + ','.join(sorted({u.split('/')[2] for u in urls})))
        else:
            print('settings_ews_url=' + str(ad.ews_url))
    names = acc.protocol.resolve_names(['bob'])
    inbox = acc.inbox
    print(f'resolved={len(names)} inbox={inbox.name}')
except Exception as e:  # noqa: BLE001
    print(f'FAILED: {type(e).__name__}: {e}')
    sys.exit(1)
finally:
    if a.mode != 'ews':
        clear_cache()
print(f'OK seconds={time.time() - t0:.3f}')

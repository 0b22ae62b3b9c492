"""A requests-ntlm session of several requests on one connection through the gateway."""
import argparse
import sys

import requests
from requests_ntlm import HttpNtlmAuth

p = argparse.ArgumentParser()
p.add_argument('--url', required=True)
p.add_argument('--user', required=True)
p.add_argument('--password', required=True)
p.add_argument('--count', type=int, default=5)
a = p.parse_args()

s = requests.Session()
s.auth = HttpNtlmAuth(a.user, a.password)
identities = []
for i in range(a.count):
    # verify=False on each call: REQUESTS_CA_BUNDLE overrides Session.verify (PEERS.md pitfall #2)
    r = s.post(a.url, data=f'<x n="{i}"/>', headers={'Content-Type': 'text/xml'}, verify=False)
    identities.append(r.headers.get('X-Lab-Identity'))
    if r.status_code != 200:
        print(f'FAILED: status {r.status_code}')
        sys.exit(1)
print('identities=' + ','.join(str(x) for x in identities))
print('OK')

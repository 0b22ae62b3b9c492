// The sign-in pages' style sheet and the one script (passkeys: WebAuthn needs JavaScript; the
// password and the TOTP code work without it). Served by the gateway from memory, same origin.

export const STYLE_CSS = `*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f2f1;font:16px/1.5 system-ui,"Segoe UI",sans-serif;color:#201f1e}
.card{background:#fff;width:100%;max-width:26rem;padding:2rem;border-radius:4px;box-shadow:0 2px 8px rgba(0,0,0,.15)}
header{display:flex;align-items:center;gap:.75rem}.logo{max-height:3rem;max-width:10rem}.org{font-weight:600;margin:0}
h1{font-size:1.5rem;font-weight:600}
label{display:block;margin-top:1rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.5rem;font-size:1rem;border:1px solid #605e5c;border-radius:2px}
input:focus,button:focus,a:focus{outline:3px solid #0078d4;outline-offset:2px}
button{margin-top:1.5rem;padding:.6rem 1.5rem;font-size:1rem;background:#0078d4;color:#fff;border:0;border-radius:2px;cursor:pointer}
.problem{color:#a4262c;background:#fde7e9;padding:.5rem;border-left:4px solid #a4262c}
.qr{display:block;width:12rem;height:12rem;margin:1rem auto}
code{word-break:break-all}.or{text-align:center;color:#605e5c}
`;

export const PASSKEY_JS = `'use strict';
(function () {
  var meta = document.querySelector('meta[name="portcullis-csrf"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  var base = '/owa/auth/portcullis/';
  function post(path, body) {
    return fetch(base + path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-Portcullis-CSRF': csrf }, body: JSON.stringify(body) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || 'failed'); return j; }); });
  }
  function say(text) { var s = document.getElementById('passkey-status'); if (s) s.textContent = text; else alert(text); }
  var signIn = document.getElementById('passkey-signin');
  if (signIn) signIn.addEventListener('click', function () {
    post('passkey/options', {})
      .then(function (o) { return navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(o) }); })
      .then(function (c) { return post('passkey/verify', c.toJSON()); })
      .then(function (r) { location.assign(r.location); })
      .catch(function () { say('The passkey was not accepted.'); });
  });
  var register = document.getElementById('passkey-register');
  if (register) register.addEventListener('click', function () {
    var name = (document.getElementById('passkey-name') || {}).value || 'Passkey';
    post('passkey/register-options', {})
      .then(function (o) { return navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(o) }); })
      .then(function (c) { return post('passkey/register', { name: name, response: c.toJSON() }); })
      .then(function () { say('Passkey added.'); })
      .catch(function () { say('The passkey could not be added.'); });
  });
})();
`;

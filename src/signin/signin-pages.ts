// The HTML of the gateway's sign-in pages: accessible (labels, a heading, the error in an alert
// region the form points at), usable without JavaScript (only passkeys need it), no inline script
// or style (the Content-Security-Policy forbids both). Everything interpolated is escaped.
import { PAGES } from './signin-http.js';

export interface Brand {
  readonly organisation: string;
  readonly logo: boolean;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function layout(brand: Brand, title: string, main: string, meta = ''): string {
  const org = escapeHtml(brand.organisation);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${meta}<title>${escapeHtml(title)} - ${org}</title>
<link rel="stylesheet" href="${PAGES}style.css">
</head>
<body>
<main class="card">
<header>${brand.logo ? `<img class="logo" src="${PAGES}logo" alt="">` : ''}<p class="org">${org}</p></header>
<h1>${escapeHtml(title)}</h1>
${main}
</main>
</body>
</html>
`;
}

function alert(message: string | undefined): string {
  return message ? `<p id="problem" class="problem" role="alert">${escapeHtml(message)}</p>\n` : '';
}

export function signInPage(brand: Brand, o: { csrf: string; destination: string; message?: string }): string {
  const described = o.message ? ' aria-describedby="problem"' : '';
  return layout(
    brand,
    'Sign in',
    `${alert(o.message)}<form method="post" action="${PAGES}signin">
<input type="hidden" name="csrf" value="${escapeHtml(o.csrf)}">
<input type="hidden" name="destination" value="${escapeHtml(o.destination)}">
<label for="username">User name (DOMAIN\\user or user@domain)</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="off" spellcheck="false" required${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${described}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface SecondFactorView {
  readonly csrf: string;
  readonly message?: string;
  /** Enrolment at first sign-in: the QR code (an SVG document) and the secret as text. */
  readonly enrol?: { readonly qrSvg: string; readonly secret: string };
  /** The user has passkeys: offer them (needs JavaScript). */
  readonly passkeys: boolean;
}

export function secondFactorPage(brand: Brand, v: SecondFactorView): string {
  const enrol = v.enrol
    ? `<p>Your organisation asks for a second factor. Scan this code with an authenticator app, or type the key below into it, then enter the 6-digit code it shows.</p>
<img class="qr" src="data:image/svg+xml;base64,${Buffer.from(v.enrol.qrSvg, 'utf8').toString('base64')}" alt="QR code of your authenticator key">
<p>Key: <code id="totp-secret">${escapeHtml(v.enrol.secret)}</code></p>\n`
    : '<p>Enter the 6-digit code your authenticator app shows.</p>\n';
  const passkey = v.passkeys && !v.enrol ? `<p class="or">or</p>\n<button type="button" id="passkey-signin">Sign in with a passkey</button>\n<script src="${PAGES}passkey.js"></script>\n` : '';
  return layout(
    brand,
    v.enrol ? 'Set up your second factor' : 'Second factor',
    `${alert(v.message)}${enrol}<form method="post" action="${PAGES}second-factor">
<input type="hidden" name="csrf" value="${escapeHtml(v.csrf)}">
<input type="hidden" name="mode" value="${v.enrol ? 'enrol' : 'code'}">
<label for="code">Code</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required${v.message ? ' aria-describedby="problem"' : ''}>
<button type="submit">Continue</button>
</form>
${passkey}`,
    `<meta name="portcullis-csrf" content="${escapeHtml(v.csrf)}">\n`,
  );
}

export function passkeysPage(brand: Brand, o: { csrf: string; passkeys: readonly { name: string }[]; destination: string }): string {
  const list = o.passkeys.length ? `<ul>${o.passkeys.map((p) => `<li>${escapeHtml(p.name)}</li>`).join('')}</ul>` : '<p>You have no passkeys yet.</p>';
  return layout(
    brand,
    'Passkeys',
    `<p>A passkey can stand in for your authenticator code at the next sign-in.</p>
${list}
<label for="passkey-name">Name of the new passkey</label>
<input id="passkey-name" type="text" maxlength="60" value="Passkey">
<button type="button" id="passkey-register">Add a passkey</button>
<p id="passkey-status" role="status"></p>
<p><a href="${escapeHtml(o.destination)}">Continue to your mailbox</a></p>
<script src="${PAGES}passkey.js"></script>`,
    `<meta name="portcullis-csrf" content="${escapeHtml(o.csrf)}">\n`,
  );
}

export function messagePage(brand: Brand, title: string, message: string, link?: { href: string; text: string }): string {
  return layout(brand, title, `<p role="status">${escapeHtml(message)}</p>${link ? `\n<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a></p>` : ''}`);
}

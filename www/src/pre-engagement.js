// The "your details" form on the host page: the pre-engagement data flexdesk sends with the escalation, as a
// Flex webchat's pre-engagement form would. Values are kept in sessionStorage so a reload keeps them.
const KEY = 'flexdesk-demo-details';

export function preEngagementForm(form) {
  const fields = [...form.querySelectorAll('input, select')];
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(KEY) ?? '{}');
  } catch {
    saved = {};
  }
  for (const field of fields) {
    if (typeof saved[field.name] === 'string') field.value = saved[field.name];
    field.addEventListener('input', () => sessionStorage.setItem(KEY, JSON.stringify(read())));
  }
  form.addEventListener('submit', (e) => e.preventDefault());
  function read() {
    return Object.fromEntries(fields.map((f) => [f.name, f.value.trim()]));
  }
  return { get: read, names: fields.map((f) => f.name) };
}

/**
 * The signed-in page (issue 17): no form to fill in. The form is replaced by who the visitor is signed in as; the
 * agent learns it from the verified identity token, not from anything typed here.
 */
export function showSignedIn(form, { name, email }) {
  const note = document.createElement('section');
  note.className = 'details signed-in';
  note.setAttribute('aria-label', 'Signed in');
  const h = document.createElement('h2');
  h.textContent = 'Signed in';
  const p = document.createElement('p');
  p.textContent = `You are signed in as ${name}${email ? ` (${email})` : ''}. An agent will know who you are: no form to fill in.`;
  note.append(h, p);
  form.replaceWith(note);
}

/** `config.identityToken` for the signed-in page: a fresh token from the page's server at each chat start. */
export function demoIdentityToken(url, onCustomer = () => {}) {
  return async () => {
    const res = await fetch(url, { cache: 'no-store' });
    if (!res.ok) throw new Error(`the identity token could not be fetched (${res.status})`);
    const { token, ...who } = await res.json();
    onCustomer(who);
    return token;
  };
}

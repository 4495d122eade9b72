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

// "Text me instead" (issue 28, item 4): while a chat with an agent is open, the customer can leave a phone number and
// carry the same chat on by SMS. This is the page's part only: ask for the number, have the customer confirm it, then
// call the desk's `continueBySms` (flexdesk's page API); the desk decides, and on success the web chat itself says
// that the chat continues by SMS. Shown above the input, like the read-receipt line.
import { intercept } from './intercept.js';

const PROBLEMS = {
  phone_invalid: 'Please enter the number with its country code, e.g. +1 415 555 0100.',
  phone_not_allowed: 'We cannot text numbers in that country.',
  phone_in_use: 'That number already has an open chat by SMS.',
  sms_already_on: 'This chat is already texted to another number.',
  sms_not_configured: 'Texting is not available here.',
  session_ended: 'The chat with an agent is over.',
};

function make(tag, props, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** Returns a serviceDeskFactory that behaves like `factory` and offers "Text me instead" during a chat with an agent. */
export function withTextMeInstead(factory) {
  const box = make('div', { className: 'flexdesk-text-me', hidden: true });
  let desk = null;

  const offer = () => box.replaceChildren(make('button', { type: 'button', className: 'text-me-open', textContent: 'Text me instead', onclick: () => ask() }));
  function ask(typed = '', problem = '') {
    const input = make('input', { type: 'tel', name: 'phone', autocomplete: 'tel', placeholder: '+1 415 555 0100', value: typed, required: true });
    input.setAttribute('aria-label', 'Your mobile number, with its country code');
    const form = make('form', { className: 'text-me-ask' }, input, make('button', { type: 'submit', textContent: 'Next' }), make('button', { type: 'button', textContent: 'Cancel', onclick: offer }));
    form.onsubmit = (e) => {
      e.preventDefault();
      if (input.value.trim()) confirm(input.value.trim());
    };
    box.replaceChildren(...(problem ? [make('p', { className: 'text-me-problem', role: 'alert', textContent: problem })] : []), form);
    input.focus();
  }
  // The number leaves the page only once the customer has seen it and confirmed it.
  function confirm(typed) {
    const yes = make('button', { type: 'button', className: 'text-me-confirm', textContent: 'Yes, text me' });
    yes.onclick = async () => {
      yes.disabled = true;
      const result = (await desk?.continueBySms(typed)) ?? { code: 'session_ended' };
      if (result.phone) done(`Texting ${result.phone}`);
      else ask(typed, PROBLEMS[result.code] ?? 'Texting did not work. Please try again.');
    };
    const change = make('button', { type: 'button', textContent: 'Change number', onclick: () => ask(typed) });
    box.replaceChildren(make('p', {}, 'Continue this chat by SMS to ', make('strong', { textContent: typed }), '? The agent’s replies will be texted to this number.'), yes, change);
  }
  const done = (text) => box.replaceChildren(make('p', { className: 'text-me-done', role: 'status', textContent: text }));
  // A chat with an agent is open (started, or back after a reload): offer it, or say it goes on by SMS already.
  const show = () => {
    if (!box.hidden) return;
    box.hidden = false;
    if (desk?.continuesBySms) done('This chat continues by SMS.');
    else offer();
  };
  const hide = () => {
    box.hidden = true;
    box.replaceChildren();
  };
  const open = () => desk && !['Idle', 'Ended'].includes(desk.phase);

  return async (params) => {
    params.instance?.writeableElements?.beforeInputElement?.appendChild(box);
    const callback = intercept(params.callback, { agentEndedChat: hide, setErrorStatus: () => !open() && hide() });
    desk = await factory({ ...params, callback });
    return intercept(desk, { endChat: hide }, { startChat: () => open() && show(), reconnect: () => open() && show() });
  };
}

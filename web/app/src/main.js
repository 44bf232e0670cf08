import './style.css';
import { applyTo, setLang, t, onLangChange } from './i18n.js';
import { initSession, loadSession, onSessionChange, session } from './session.js';

function renderMain() {
  const main = document.getElementById('main');
  const s = session();
  main.innerHTML = '';
  const card = document.createElement('section');
  card.className = 'welcome card';
  const h = document.createElement('h1');
  h.textContent = t('welcome.title');
  const p = document.createElement('p');
  p.textContent = t('welcome.text');
  card.append(h, p);
  if (s.signed_in) {
    const hi = document.createElement('p');
    hi.id = 'greeting';
    hi.textContent = t('welcome.signedIn', { name: s.user.display_name });
    card.append(hi);
  }
  main.append(card);
}

document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
applyTo(document);
initSession();
onSessionChange(renderMain);
onLangChange(renderMain);
loadSession();

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { sessionStore } from './store/sessionStore';
import { loadConfigFromUrl, reflectConfigInUrl } from './ui/app/urlSync';
import { runArchive } from './ui/runs/archive';
import './ui/styles.css';

loadConfigFromUrl(sessionStore, window.location.search);
reflectConfigInUrl(sessionStore, window.history, window.location);
void runArchive.refresh();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { sessionStore } from './store/sessionStore';
import { loadConfigFromUrl, reflectConfigInUrl } from './ui/app/urlSync';
import { runArchive } from './ui/runs/archive';
import { lessonSource, pageLessons } from './ui/lessons/pageLessons';
import './ui/styles.css';

const lesson = loadConfigFromUrl(sessionStore, window.location.search);
if (lesson) void pageLessons.open(lesson, false);
reflectConfigInUrl(sessionStore, window.history, window.location, lessonSource);
void runArchive.refresh();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

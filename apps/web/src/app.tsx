/** The root: picks the screen for the phase, applies the theme, Esc closes panels. */
import { useEffect } from 'react';
import { MainScreen } from './screens/main-screen.js';
import { Confirm, CreateName, LinkWait, Pin, Restore, Seed, Unlock, Welcome } from './screens/onboarding.js';
import { boot, setBrowserOnline } from './state/session.js';
import { useApp } from './state/store.js';

/** The app. */
export function App() {
  const phase = useApp((s) => s.phase);
  const theme = useApp((s) => s.theme);
  useEffect(() => {
    boot();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      const s = useApp.getState();
      if (s.panel !== 'none') useApp.setState({ panel: 'none' });
      else if (s.selected && window.matchMedia('(max-width: 720px)').matches) useApp.setState({ selected: undefined });
    };
    const online = () => void setBrowserOnline(true);
    const offline = () => void setBrowserOnline(false);
    window.addEventListener('keydown', onKey);
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  }, []);
  useEffect(() => {
    if (theme === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);
  switch (phase) {
    case 'loading':
      return null;
    case 'welcome':
      return <Welcome />;
    case 'create-name':
      return <CreateName />;
    case 'restore':
      return <Restore />;
    case 'pin':
      return <Pin />;
    case 'seed':
      return <Seed />;
    case 'confirm':
      return <Confirm />;
    case 'unlock':
      return <Unlock />;
    case 'link':
      return <LinkWait />;
    case 'main':
      return <MainScreen />;
  }
}

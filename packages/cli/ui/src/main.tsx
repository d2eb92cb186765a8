import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleConfig } from '../../src/ui/api-types';
import { adoptTokenFromUrl, getJson } from './api';
import { ContractsPage } from './contracts/contracts-page';
import { DeadLetterQueuePage } from './dead-letters/queue-page';
import { DeadLettersPage } from './dead-letters/overview-page';
import { Problem } from './widgets';
import { WiringPage } from './wiring/wiring-page';
import './style.css';

/** The page's address: `#/wiring`, `#/dead-letters[/consumer[/message]]`, `#/contracts`. */
function useRoute(): string[] {
  const read = () => location.hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

const TABS = [['wiring', 'Wiring'], ['dead-letters', 'Dead letters'], ['contracts', 'Contracts']] as const;

function App() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [error, setError] = useState<string>();
  const route = useRoute();
  useEffect(() => { getJson<ConsoleConfig>('/api/config').then(setConfig, (e: Error) => setError(e.message)); }, []);
  useEffect(() => { if (config) document.title = `${config.service} · Warren console`; }, [config?.service]);
  if (error) return <Problem title="The console's server does not answer" detail={error} />;
  if (!config) return <p class="loading">Loading…</p>;
  const [page = 'wiring', consumer, message] = route;
  return (
    <div class="console">
      <header class="top">
        <div class="brand"><span class="logo">warren</span> <span class="service">{config.service}</span></div>
        <nav>
          {TABS.map(([id, label]) => <a key={id} href={`#/${id}`} class={page === id ? 'active' : ''}>{label}</a>)}
        </nav>
        <div class="facts">
          <span title="broker">{config.broker ?? 'no broker'}</span>
          <span class={`badge ${config.actionsAllowed ? 'actions' : 'read-only'}`} data-testid="mode">{config.actionsAllowed ? 'actions allowed' : 'read-only'}</span>
        </div>
      </header>
      <main>
        {page === 'wiring' && <WiringPage config={config} />}
        {page === 'dead-letters' && (consumer
          ? <DeadLetterQueuePage config={config} consumer={consumer} messageId={message} />
          : <DeadLettersPage config={config} />)}
        {page === 'contracts' && <ContractsPage />}
        {!TABS.some(([id]) => id === page) && <Problem title="No such page" detail={`#/${route.join('/')}`} />}
      </main>
    </div>
  );
}

adoptTokenFromUrl();
render(<App />, document.getElementById('app')!);

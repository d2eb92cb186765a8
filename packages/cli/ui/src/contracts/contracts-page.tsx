import type { ContractView } from '../../../src/ui/api-types';
import { getJson } from '../api';
import { Problem, usePolling } from '../widgets';
import { SchemaView } from './schema-view';

/** The service's AsyncAPI document (as `warren asyncapi` writes it), for reading. */
export function ContractsPage() {
  const view = usePolling(() => getJson<ContractView>('/api/contracts'), undefined);
  if (view.error) return <Problem title="Could not load the contracts" detail={view.error} />;
  if (!view.data) return <p class="loading">Loading the contracts…</p>;
  const { title, version, description, channels } = view.data;
  return (
    <section class="contracts">
      <div class="page-head">
        <h2>Contracts</h2>
        <span class="hint">{title} {version} — AsyncAPI 3.0.0, as <code>warren asyncapi</code> writes it</span>
      </div>
      {description && <p>{description}</p>}
      <nav class="toc">{channels.map((c) => <a key={c.name} href={`#/contracts`} onClick={(e) => { e.preventDefault(); document.getElementById(`channel-${c.name}`)?.scrollIntoView(); }}>{c.address}</a>)}</nav>
      {channels.map((channel) => (
        <article class="channel" key={channel.name} id={`channel-${channel.name}`} data-channel={channel.address}>
          <h3>
            <span class="mono">{channel.address}</span>
            <span class="muted">{channel.exchange !== undefined ? ` on exchange ${channel.exchange || '(default)'}` : ' (queue)'}</span>
          </h3>
          <ul class="operations">
            {channel.operations.map((op) => <li key={op.name}><span class={`op ${op.action}`}>{op.action === 'send' ? 'publishes' : 'consumes'}</span> <span class="mono">{op.name}</span>{op.summary ? ` — ${op.summary}` : ''}</li>)}
          </ul>
          {channel.messages.map((message) => (
            <div class="message" key={message.name} data-message-name={message.name}>
              <h4>{message.title ?? message.name} <span class="muted mono">{message.contentType}</span></h4>
              <div class="schema-and-example">
                <div><h5>Payload</h5><SchemaView schema={message.payload} /></div>
                <div>
                  <h5>Example <span class="muted">(built from the schema)</span></h5>
                  {message.examples.map((example, i) => <pre key={i} class="example" data-testid="example">{JSON.stringify(example, null, 2)}</pre>)}
                </div>
              </div>
            </div>
          ))}
        </article>
      ))}
    </section>
  );
}

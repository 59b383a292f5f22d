import { useState, type FormEvent } from 'react';
import { apiAll, enc, type AuditEntry } from '../api.ts';
import { Badge, Empty, ErrorBanner, Field, Loading, PageHeader, useApi, when } from '../ui.tsx';

export function AuditPage() {
  const [filters, setFilters] = useState({ actor: '', action: '', since: '', until: '' });
  const [applied, setApplied] = useState(filters);
  const query = Object.entries(applied)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${enc(v)}`)
    .join('&');
  const entries = useApi(() => apiAll<AuditEntry>(`/audit${query ? `?${query}` : ''}`, 500), [query]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setApplied(filters);
  };
  const input = (key: keyof typeof filters, label: string, type = 'text', hint?: string) => (
    <Field label={label} hint={hint} error={entries.error?.about(key)}>
      {(p) => <input {...p} type={type} value={filters[key]} onChange={(e) => setFilters({ ...filters, [key]: e.target.value })} />}
    </Field>
  );
  return (
    <>
      <PageHeader title="Audit log" />
      <form className="filters" onSubmit={submit}>
        {input('actor', 'Who')}
        {input('action', 'What', 'text', 'An action or its start, e.g. connection.')}
        {input('since', 'From', 'date')}
        {input('until', 'Until', 'date')}
        <button type="submit">Filter</button>
      </form>
      <ErrorBanner error={entries.error && !entries.error.issues.length ? entries.error : undefined} />
      {!entries.data ? (
        entries.error ? null : <Loading />
      ) : entries.data.length === 0 ? (
        <Empty title="No entries match.">Widen the filters, or clear them to see everything.</Empty>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit log entries">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.data.map((e) => (
                <tr key={e.id}>
                  <td>{when(e.at)}</td>
                  <td>
                    {e.actor} <span className="muted">({e.role}, {e.via}{e.address ? ` ${e.address}` : ''})</span>
                  </td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ?? '—'}</td>
                  <td>
                    <Badge tone={e.outcome === 'ok' ? 'ok' : e.outcome === 'denied' ? 'bad' : 'warn'}>{e.outcome}</Badge>
                  </td>
                  <td className="details">{Object.keys(e.details).length ? JSON.stringify(e.details) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Department, Person } from '@enclave/protocol';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';

/** Pick people by search (name, pinyin, phone) or a whole department; used to create and grow groups. */
export function PeoplePicker({
  session,
  exclude,
  submitLabel,
  onSubmit,
  allowEmpty,
}: {
  session: Session;
  exclude?: ReadonlySet<string>;
  submitLabel: string;
  onSubmit: (ids: string[]) => Promise<void> | void;
  allowEmpty?: boolean;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Person[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [selected, setSelected] = useState<Map<string, string>>(new Map());
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    session.client
      .call('org.departments', {})
      .then((r) => setDepartments(r.items))
      .catch(() => undefined);
  }, [session]);

  useEffect(() => {
    const query = q.trim();
    if (!query) {
      setResults([]);
      return;
    }
    const timer = setTimeout(() => {
      session.client
        .call('people.search', { q: query, limit: 20 })
        .then((r) => {
          setResults(r.items);
          session.names.put(r.items);
        })
        .catch(() => setResults([]));
    }, 150);
    return () => clearTimeout(timer);
  }, [q, session]);

  const toggle = (p: { id: string; displayName: string }) =>
    setSelected((s) => {
      const next = new Map(s);
      if (next.has(p.id)) next.delete(p.id);
      else next.set(p.id, p.displayName);
      return next;
    });

  const addDepartment = async (id: string) => {
    const d = await session.client.call('org.department', { departmentId: id as never });
    session.names.put(d.people);
    setSelected((s) => {
      const next = new Map(s);
      for (const p of d.people) if (p.id !== session.me.id && !exclude?.has(p.id)) next.set(p.id, p.displayName);
      return next;
    });
  };

  return (
    <div className="people-picker">
      <input
        type="search"
        autoFocus
        placeholder={t('group.searchPeople')}
        aria-label={t('group.searchPeople')}
        value={q}
        onChange={(e) => setQ(e.target.value)}
        data-testid="people-search"
      />
      <ul className="pick-list">
        {results
          .filter((p) => p.id !== session.me.id && !exclude?.has(p.id))
          .map((p) => (
            <li key={p.id}>
              <label>
                <input type="checkbox" checked={selected.has(p.id)} onChange={() => toggle(p)} />
                <Avatar id={p.id} name={p.displayName} size={28} />
                <span>{p.displayName}</span>
                <span className="muted small">{p.posts.map((x) => x.departmentName).join(' / ')}</span>
              </label>
            </li>
          ))}
      </ul>
      {departments.length > 0 && (
        <div className="dept-pick">
          <span className="muted small">{t('group.pickDepartment')}:</span>
          {departments.map((d) => (
            <button key={d.id} className="chip" onClick={() => void addDepartment(d.id)}>
              {d.name} ({d.total})
            </button>
          ))}
        </div>
      )}
      {selected.size > 0 && (
        <div className="selected-chips">
          {[...selected].map(([id, name]) => (
            <button key={id} className="chip mine" onClick={() => toggle({ id, displayName: name })}>
              {name} ×
            </button>
          ))}
        </div>
      )}
      <div className="row-end">
        <span className="muted small">{t('group.selected', { count: selected.size })}</span>
        <button
          className="btn primary"
          disabled={busy || (!allowEmpty && selected.size === 0)}
          data-testid="picker-submit"
          onClick={async () => {
            setBusy(true);
            try {
              await onSubmit([...selected.keys()]);
            } finally {
              setBusy(false);
            }
          }}
        >
          {submitLabel}
        </button>
      </div>
    </div>
  );
}

import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Department, DepartmentId, Person, UserId } from '@enclave/protocol';
import { usePresenceView } from '../state/hooks.ts';
import type { Session } from '../state/session.ts';
import { Avatar } from './Avatar.tsx';
import { ContactCard } from './ContactCard.tsx';
import { Icon } from './Icons.tsx';

type Selection = { kind: 'favourites' } | { kind: 'department'; id: DepartmentId } | { kind: 'search' };

/**
 * 通讯录: favourites, the department tree with online/total headcounts, people with presence, pinyin
 * search, and the contact card. Presence is subscribed for exactly what is on screen.
 */
export function OrgPane({
  session,
  mobile,
  onMessage,
}: {
  session: Session;
  mobile: boolean;
  onMessage: (userId: UserId) => Promise<void>;
}) {
  const { t } = useTranslation();
  const client = session.client;
  const presence = usePresenceView(session);
  const [roots, setRoots] = useState<Department[] | null>(null);
  const [children, setChildren] = useState<Record<string, Department[]>>({});
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [selection, setSelection] = useState<Selection>({ kind: 'favourites' });
  const [people, setPeople] = useState<Person[] | null>(null);
  const [favourites, setFavourites] = useState<Person[]>([]);
  const [q, setQ] = useState('');
  const [person, setPerson] = useState<UserId | null>(null);
  const [error, setError] = useState(false);

  const loadRoots = useCallback(() => {
    setError(false);
    client
      .call('org.departments', {})
      .then((r) => setRoots(r.items))
      .catch(() => setError(true));
  }, [client]);
  const loadFavourites = useCallback(() => {
    client
      .call('contacts.favourites', {})
      .then((r) => {
        setFavourites(r.items);
        session.names.put(r.items);
      })
      .catch(() => undefined);
  }, [client, session]);
  useEffect(loadRoots, [loadRoots]);
  useEffect(loadFavourites, [loadFavourites]);

  // What the main list shows.
  useEffect(() => {
    let live = true;
    if (selection.kind === 'favourites') setPeople(favourites);
    else if (selection.kind === 'department') {
      setPeople(null);
      client
        .call('org.department', { departmentId: selection.id })
        .then((d) => {
          if (!live) return;
          setPeople(d.people);
          session.names.put(d.people);
        })
        .catch(() => live && setPeople([]));
    }
    return () => {
      live = false;
    };
  }, [selection, favourites, client, session]);

  useEffect(() => {
    if (selection.kind !== 'search') return;
    const query = q.trim();
    if (!query) return setPeople([]);
    setPeople(null);
    const timer = setTimeout(() => {
      client
        .call('people.search', { q: query, limit: 50 })
        .then((r) => {
          setPeople(r.items);
          session.names.put(r.items);
        })
        .catch(() => setPeople([]));
    }, 150);
    return () => clearTimeout(timer);
  }, [q, selection.kind, client, session]);

  // Presence for the people and departments on screen.
  const visibleDepts = useMemo(() => {
    const ids: string[] = (roots ?? []).map((d) => d.id);
    for (const id of expanded) for (const c of children[id] ?? []) ids.push(c.id);
    return ids.slice(0, 200);
  }, [roots, expanded, children]);
  const visiblePeople = useMemo(() => (people ?? []).map((p) => p.id).slice(0, 500), [people]);
  const subKey = visibleDepts.join(',') + '|' + visiblePeople.join(',');
  useEffect(() => {
    const [depts = '', users = ''] = subKey.split('|');
    const list = (v: string) => v.split(',').filter(Boolean);
    client.subscribePresence(list(users) as UserId[], list(depts) as DepartmentId[]).catch(() => undefined);
  }, [client, subKey]);

  const toggle = async (d: Department) => {
    setSelection({ kind: 'department', id: d.id });
    setPerson(null);
    const next = new Set(expanded);
    if (next.has(d.id)) next.delete(d.id);
    else {
      next.add(d.id);
      if (!children[d.id] && d.childCount > 0) {
        const r = await client.call('org.departments', { parentId: d.id }).catch(() => ({ items: [] }));
        setChildren((c) => ({ ...c, [d.id]: r.items }));
      }
    }
    setExpanded(next);
  };

  const counts = (d: Department) => presence.departments[d.id] ?? { total: d.total, online: d.online };

  const renderTree = (list: Department[], depth: number) => (
    <ul className="tree" role={depth === 0 ? 'tree' : 'group'}>
      {list.map((d) => {
        const c = counts(d);
        const open = expanded.has(d.id);
        return (
          <li key={d.id} role="treeitem" aria-expanded={d.childCount > 0 ? open : undefined}>
            <button
              className={`tree-row${selection.kind === 'department' && selection.id === d.id ? ' selected' : ''}`}
              style={{ paddingLeft: 8 + depth * 16 }}
              onClick={() => void toggle(d)}
              data-testid="dept"
              data-name={d.name}
            >
              <span className={`chev${open ? ' open' : ''}${d.childCount === 0 ? ' leaf' : ''}`}>
                <Icon name="chevron" size={14} />
              </span>
              <span className="tree-name">{d.name}</span>
              <span className="muted small headcount" data-testid="headcount">
                {t('org.headcount', { online: c.online, total: c.total })}
              </span>
            </button>
            {open && children[d.id] && renderTree(children[d.id]!, depth + 1)}
          </li>
        );
      })}
    </ul>
  );

  const listTitle =
    selection.kind === 'favourites'
      ? t('org.favourites')
      : selection.kind === 'search'
        ? t('org.search')
        : ((roots ?? []).concat(...Object.values(children)).find((d) => d.id === selection.id)?.name ?? '');

  const showSide = !mobile || (person === null && selection.kind !== 'department');
  return (
    <div className="org">
      {showSide && (
        <section className="list-pane org-side" aria-label={t('org.title')}>
          <div className="list-header">
            <label className="search">
              <Icon name="search" size={16} />
              <input
                type="search"
                placeholder={t('org.search')}
                aria-label={t('org.search')}
                value={q}
                data-testid="org-search"
                onChange={(e) => {
                  setQ(e.target.value);
                  setPerson(null);
                  setSelection(e.target.value.trim() ? { kind: 'search' } : { kind: 'favourites' });
                }}
              />
            </label>
          </div>
          <button
            className={`tree-row fav-row${selection.kind === 'favourites' ? ' selected' : ''}`}
            onClick={() => {
              setSelection({ kind: 'favourites' });
              setPerson(null);
            }}
          >
            <Icon name="star" size={16} /> {t('org.favourites')}{' '}
            <span className="muted small">({favourites.length})</span>
          </button>
          <h4 className="side-title">{t('org.organisation')}</h4>
          {error && (
            <p className="error small">
              {t('org.error')}{' '}
              <button className="link" onClick={loadRoots}>
                {t('org.retry')}
              </button>
            </p>
          )}
          {!roots && !error && <p className="muted small pad">{t('org.loading')}</p>}
          {roots && roots.length === 0 && <p className="muted small pad">{t('org.empty')}</p>}
          {roots && renderTree(roots, 0)}
        </section>
      )}
      {(!mobile || !showSide) && (
        <main className="main-pane org-main">
          {mobile && (
            <button
              className="icon-btn"
              aria-label={t('chat.back')}
              data-testid="back"
              onClick={() => (person ? setPerson(null) : setSelection({ kind: 'favourites' }))}
            >
              <Icon name="back" />
            </button>
          )}
          {person ? (
            <ContactCard
              session={session}
              userId={person}
              favourite={favourites.some((f) => f.id === person)}
              onFavouriteChanged={loadFavourites}
              onMessage={onMessage}
            />
          ) : (
            <div className="people-pane">
              <h3>{listTitle}</h3>
              {people === null && <p className="muted">{t('org.loading')}</p>}
              {people?.length === 0 && (
                <p className="muted">
                  {selection.kind === 'favourites'
                    ? t('org.noFavourites')
                    : selection.kind === 'search'
                      ? t('org.noResults', { q })
                      : t('org.empty')}
                </p>
              )}
              <ul className="people-list" data-testid="people-list">
                {people?.map((p) => {
                  const state = presence.users[p.id]?.state ?? p.presence;
                  return (
                    <li key={p.id}>
                      <button
                        className="person-row"
                        onClick={() => setPerson(p.id)}
                        data-testid="person"
                        data-name={p.displayName}
                      >
                        <Avatar id={p.id} name={p.displayName} size={38} presence={state} />
                        <span className="person-main">
                          <span className="person-name">{p.displayName}</span>
                          <span className="muted small">
                            {[p.title, p.posts.map((x) => x.departmentName).join(' / ')].filter(Boolean).join(' · ')}
                          </span>
                        </span>
                        <span className={`presence-label small ${state}`}>{t(`presence.${state}`)}</span>
                      </button>
                    </li>
                  );
                })}
              </ul>
            </div>
          )}
        </main>
      )}
    </div>
  );
}

import type { HandlerTable } from '../handlers.ts';
import { listFavourites, listFollowing, setFavourite, setFollow } from '../../domain/people/contact-lists.ts';
import { recentContacts } from '../../domain/people/recent-contacts.ts';
import { searchPeople } from '../../domain/people/search-people.ts';

const ok = { ok: true as const };

/** People search and contacts: each op calls one function in domain/people/. */
export const contactHandlers: Pick<
  HandlerTable,
  | 'people.search'
  | 'contacts.favourites'
  | 'contacts.setFavourite'
  | 'contacts.recent'
  | 'contacts.follow'
  | 'contacts.following'
> = {
  'people.search': async ({ deps, viewer }, i) => ({ items: await searchPeople(deps, viewer, i) }),
  'contacts.favourites': async ({ deps, viewer }) => ({ items: await listFavourites(deps, viewer) }),
  'contacts.setFavourite': async ({ deps, viewer }, i) => (await setFavourite(deps, viewer, i.userId, i.on), ok),
  'contacts.recent': async ({ deps, viewer }, i) => ({ items: await recentContacts(deps, viewer, i.limit) }),
  'contacts.follow': async ({ deps, viewer }, i) => (await setFollow(deps, viewer, i.userId, i.on), ok),
  'contacts.following': async ({ deps, viewer }) => ({ items: await listFollowing(deps, viewer) }),
};

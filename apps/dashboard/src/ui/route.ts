import { useCallback, useEffect, useState } from 'react';

export const PAGES = ['board', 'notifications', 'analytics', 'profile', 'admin'] as const;
export type Page = (typeof PAGES)[number];

function currentPage(): Page {
  const name = window.location.pathname.replace(/^\/+/, '').split('/')[0] ?? '';
  return (PAGES as readonly string[]).includes(name) ? (name as Page) : 'board';
}

/** The page in the address bar (/board, /analytics...), with back/forward support. */
export function useRoute(): [Page, (page: Page) => void] {
  const [page, setPage] = useState<Page>(currentPage);
  useEffect(() => {
    const onPop = () => setPage(currentPage());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((next: Page) => {
    if (next !== currentPage()) window.history.pushState(null, '', `/${next}`);
    setPage(next);
  }, []);
  return [page, navigate];
}

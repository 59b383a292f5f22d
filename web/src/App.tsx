import { useEffect, useRef, useState } from 'react';
import { api, onUnauthenticated, setCsrfToken, type Session, type User } from './api.ts';
import { Link, navigate, usePath } from './router.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { ChangePassword } from './pages/ChangePassword.tsx';
import { ConnectionsPage } from './pages/Connections.tsx';
import { ExportsPage } from './pages/Exports.tsx';
import { ExportPage } from './pages/ExportDetail.tsx';
import { SegmentsPage } from './pages/Segments.tsx';
import { UsersPage } from './pages/Users.tsx';
import { AuditPage } from './pages/Audit.tsx';
import { SchedulePage } from './pages/Schedule.tsx';
import { ManifestPage } from './pages/Manifest.tsx';
import { OverviewPage } from './pages/Overview.tsx';

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  useEffect(() => {
    onUnauthenticated(() => setUser(null));
    api<Session>('GET', '/session').then(
      (s) => {
        // A tab opened after sign-in (or a restored one) gets the session's CSRF token again.
        if (s.csrfToken) setCsrfToken(s.csrfToken);
        setUser(s.user);
      },
      () => setUser(null),
    );
  }, []);

  if (user === undefined) return null;
  if (user === null) {
    return (
      <SignIn
        onSignedIn={(s) => {
          setCsrfToken(s.csrfToken ?? null);
          setUser(s.user);
        }}
      />
    );
  }
  const signOut = async () => {
    await api('DELETE', '/session').catch(() => undefined);
    setCsrfToken(null);
    setUser(null);
    navigate('/');
  };
  if (user.mustChangePassword) return <ChangePassword user={user} onChanged={setUser} onSignOut={signOut} />;
  return <Shell user={user} onSignOut={signOut} />;
}

function Shell({ user, onSignOut }: { user: User; onSignOut: () => void }) {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  const first = useRef(true);
  useEffect(() => {
    setMenuOpen(false);
    // After moving to another page, keyboard and screen-reader users start at its content, not at the old link.
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus();
  }, [path]);
  // The pages that manage the home, as far as the server lets this user (the session's `can`).
  const adminPages = (
    [
      ['/connections', 'Connections', user.can.createConnection],
      ['/schedule', 'Schedule', user.can.setSchedule],
      ['/users', 'Users', user.can.manageUsers],
      ['/audit', 'Audit log', user.can.readAudit],
    ] as const
  ).filter(([, , can]) => can.allowed);
  const nav = (to: string, label: string) => (
    <li key={to}>
      <Link to={to} aria-current={path === to || path.startsWith(`${to}/`) || (to === '/overview' && path === '/') ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar no-print">
        <Link to="/" className="brand">
          Outflow
        </Link>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="sidebar" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div className="who">
          <span>
            {user.name} <span className="muted">({user.role})</span>
          </span>
          <button type="button" className="ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="sidebar" className={`sidebar no-print${menuOpen ? ' open' : ''}`} aria-label="Main">
        <p className="nav-section" id="nav-data">
          Data
        </p>
        <ul aria-labelledby="nav-data">
          {nav('/overview', 'Overview')}
          {nav('/exports', 'Exports')}
          {nav('/segments', 'Segments')}
        </ul>
        {adminPages.length > 0 ? (
          <>
            <p className="nav-section" id="nav-admin">
              Admin
            </p>
            <ul aria-labelledby="nav-admin">{adminPages.map(([to, label]) => nav(to, label))}</ul>
          </>
        ) : null}
      </nav>
      <main id="main" tabIndex={-1}>
        <Page path={path} user={user} />
      </main>
    </div>
  );
}

function Page({ path, user }: { path: string; user: User }) {
  const manifestMatch = /^\/exports\/([^/]+)\/manifest$/.exec(path);
  if (manifestMatch) return <ManifestPage name={decodeURIComponent(manifestMatch[1]!)} />;
  const exportMatch = /^\/exports\/(.+)$/.exec(path);
  if (exportMatch) return <ExportPage name={decodeURIComponent(exportMatch[1]!)} user={user} />;
  switch (path) {
    case '/exports':
      return <ExportsPage user={user} />;
    case '/segments':
      return <SegmentsPage user={user} />;
    case '/connections':
      return <ConnectionsPage user={user} />;
    case '/users':
      return <UsersPage user={user} />;
    case '/audit':
      return <AuditPage />;
    case '/schedule':
      return <SchedulePage user={user} />;
    default:
      // The landing page (`/`, `/overview`, and an address the app does not know): what needs attention first.
      return <OverviewPage user={user} />;
  }
}

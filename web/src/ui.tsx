import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError, type Action } from './api.ts';

/** Loads data from the API; `reload` fetches again. */
export function useApi<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | undefined; error: ApiError | undefined; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && (setData(value), setError(undefined)),
      (e: unknown) => live && setError(asApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [tick, ...deps]);
  return { data, error, reload: useCallback(() => setTick((t) => t + 1), []) };
}

export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'error', e instanceof Error ? e.message : String(e));
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children ? <div className="actions">{children}</div> : null}
    </div>
  );
}

/** A labelled form field; `error` (from the API) appears right under it and is announced with the field. */
export function Field({ label, hint, error, children }: { label: string; hint?: ReactNode; error?: string | undefined; children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), ...(error ? { 'aria-invalid': true } : {}) })}
      {hint ? (
        <p className="hint" id={hintId}>
          {typeof hint === 'string' ? <Message>{hint}</Message> : hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={errorId}>
          <Message>{error}</Message>
        </p>
      ) : null}
    </div>
  );
}

/**
 * Brings a refusal into view: once `error` is set and rendered, the first field marked invalid (or the first
 * field error, or the error banner) inside the returned ref's element is scrolled to the middle of its
 * scrolling box (a long dialog included) and gets focus, so the person sees what to fix and can type at once.
 */
export function useRevealError<T extends HTMLElement>(error: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (!error || !ref.current) return;
    const root = ref.current;
    const marked = root.querySelector<HTMLElement>('[aria-invalid="true"], .field-error, .banner.error');
    if (!marked) return;
    // A message under a group (checkboxes, radios) has no control of its own: focus the group's first one.
    const control = marked.matches('[aria-invalid="true"]')
      ? marked
      : marked.classList.contains('banner')
        ? marked
        : (marked.closest('.field, fieldset, section')?.querySelector<HTMLElement>('input:not([disabled]), select, textarea') ?? marked);
    marked.scrollIntoView({ block: 'center' });
    if (control === marked && !control.matches('input, select, textarea, button')) control.tabIndex = -1;
    control.focus({ preventScroll: true });
  }, [error]);
  return ref;
}

/**
 * A message from the API as people read it: the server marks names, commands and values with backticks (for
 * the terminal); here they become code, never literal backticks.
 */
export function Message({ children }: { children: string }) {
  const parts = children.split('`');
  // An odd count of backticks is not markup: show the text as it is.
  if (parts.length % 2 === 0) return <>{children}</>;
  return <>{parts.map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}</>;
}

/**
 * An error not tied to one field. `onReload`: when the server refused an edit because someone else changed the
 * thing first (412 precondition_failed; its message says so), a button loads the current version.
 */
export function ErrorBanner({ error, onReload }: { error: ApiError | string | undefined; onReload?: (() => void) | undefined }) {
  if (!error) return null;
  const stale = onReload && typeof error !== 'string' && error.code === 'precondition_failed';
  return (
    <div className="banner error" role="alert" tabIndex={-1}>
      <Message>{typeof error === 'string' ? error : error.message}</Message>
      {stale ? (
        <>
          {' '}
          <button type="button" onClick={onReload}>
            Reload
          </button>
        </>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

export function Loading() {
  return (
    <p className="muted" role="status">
      Loading…
    </p>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'bad' | 'warn' | 'info' | 'neutral'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  const tone = status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : status === 'cancelled' ? 'warn' : status === 'running' || status === 'queued' ? 'info' : 'neutral';
  return <Badge tone={tone}>{status}</Badge>;
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal dialog: focus moves into it, Tab and Shift+Tab stay inside it, Escape closes it, and focus returns
 * to what opened it when it closes (so keyboard users are not dropped at the top of the page).
 */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  // Read at the first render: by the time effects run, the close button's autoFocus has already taken focus.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : null));
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        close.current();
        return;
      }
      if (event.key !== 'Tab' || !box.current) return;
      const items = [...box.current.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((e) => e.offsetParent !== null);
      if (items.length === 0) return;
      const first = items[0]!;
      const last = items[items.length - 1]!;
      const inside = box.current.contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    };
    addEventListener('keydown', onKey);
    return () => {
      removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={id} ref={box}>
        <div className="dialog-header">
          <h2 id={id}>{title}</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose} autoFocus>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/**
 * The three states of data loaded from the API in one place: an error (a 404 can get its own wording), a
 * loading line, an empty state that says what to do next, or the content.
 */
export function Loaded<T>({ state, empty, notFound, pending, children }: { state: { data: T | undefined; error: ApiError | undefined }; empty?: (data: T) => ReactNode | undefined; notFound?: string; /** What to show while loading instead of "Loading…" (null: the caller says it). */ pending?: ReactNode; children: (data: T) => ReactNode }) {
  if (state.error && state.data === undefined) return <ErrorBanner error={state.error.status === 404 && notFound ? notFound : state.error} />;
  if (state.data === undefined) return pending === undefined ? <Loading /> : <>{pending}</>;
  const none = empty?.(state.data);
  return (
    <>
      {state.error ? <ErrorBanner error={state.error} /> : null}
      {none ?? children(state.data)}
    </>
  );
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const num = (n: number | null | undefined) => (n == null ? '—' : n.toLocaleString());

/**
 * The actions the server says the signed-in user may not take here, and why: their buttons are not shown, so
 * this says what is missing instead of leaving people to wonder (one line per reason).
 */
export function Unavailable({ actions }: { actions: Array<[label: string, action: Action]> }) {
  const byReason = new Map<string, string[]>();
  for (const [label, action] of actions) {
    if (action.allowed) continue;
    const reason = action.reason ?? 'Not allowed.';
    byReason.set(reason, [...(byReason.get(reason) ?? []), label]);
  }
  if (byReason.size === 0) return null;
  return (
    <div className="banner info unavailable" role="note" data-testid="unavailable">
      {[...byReason].map(([reason, labels]) => (
        <p key={reason}>
          <strong>Not available to you: {labels.join(', ')}.</strong> <Message>{reason}</Message>
        </p>
      ))}
    </div>
  );
}

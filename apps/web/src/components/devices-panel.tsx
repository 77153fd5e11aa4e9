/** This account's devices: the list, revoke one, and approve a new browser by its link code. */
import type { DeviceInfo } from '@vaultex/client/browser';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { approveLink, loadDevices, revokeDevice } from '../state/session.js';
import { useApp } from '../state/store.js';
import { CloseIcon } from './icons.js';
import { ScanButton } from './scan-button.js';

/** The devices panel. */
export function DevicesPanel() {
  const [devices, setDevices] = useState<DeviceInfo[] | undefined>(undefined);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const reload = useCallback(async () => setDevices(await loadDevices()), []);
  useEffect(() => {
    void reload();
    // A device approved here appears once it has finished linking on its side.
    const timer = setInterval(() => void reload(), 3000);
    return () => clearInterval(timer);
  }, [reload]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (code.trim()) await approve(code);
  };
  const approve = async (text: string) => {
    setDone(undefined);
    const problem = await approveLink(text);
    setError(problem);
    if (!problem) {
      setCode('');
      setDone('Approved. The new browser finishes linking by itself.');
      await reload();
    }
  };
  const revoke = async (d: DeviceInfo) => {
    if (!window.confirm(`Revoke "${d.name || `Device ${d.deviceId}`}"? It will stop receiving messages.`)) return;
    const problem = await revokeDevice(d.deviceId);
    setError(problem);
    await reload();
  };
  return (
    <aside className="panel" aria-labelledby="devices-title">
      <header className="panel-header">
        <h2 id="devices-title">Devices</h2>
        <button
          type="button"
          className="icon"
          aria-label="Close devices"
          onClick={() => useApp.setState({ panel: 'none' })}
        >
          <CloseIcon />
        </button>
      </header>
      <h3>Linked devices</h3>
      {!devices ? (
        <p className="hint">Loading…</p>
      ) : (
        <ul className="plain" aria-label="Linked devices">
          {devices.map((d) => (
            <li key={d.deviceId} className="row" data-testid="device">
              <span>
                {d.name || `Device ${d.deviceId}`}
                {d.current && <em> (this browser)</em>}
              </span>
              {!d.current && (
                <button type="button" className="danger" onClick={() => void revoke(d)}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <h3>Link a new device</h3>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="link-code">Paste the code the new device shows</label>
        <textarea id="link-code" rows={3} value={code} spellCheck={false} onChange={(e) => setCode(e.target.value)} />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {done && (
          <p className="hint" role="status">
            {done}
          </p>
        )}
        <div className="actions">
          <ScanButton label="Camera view for scanning a link QR code" onResult={(text) => void approve(text)} />
          <button type="submit" className="primary" disabled={!code.trim()}>
            Approve device
          </button>
        </div>
      </form>
    </aside>
  );
}

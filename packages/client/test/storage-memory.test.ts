import { openMemoryStore, runStoreConformance } from '@vaultex/client';
import { describe, expect, it } from 'vitest';

runStoreConformance('memory', openMemoryStore, { describe, it, expect });

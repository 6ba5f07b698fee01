import { QueryFailedError, DataSource } from 'typeorm';
import { StoreEnv } from '../config/store.env';
import { StoresService } from './stores.service';

describe('StoresService.claimIdRange', () => {
  it('claims the range once the database answers again after a connection killed at start-up', async () => {
    // What mysql2 reports, through TypeORM, for a session KILLed while the service starts (a chaos run's store exited 1 on it).
    const lost = new QueryFailedError('SELECT MAX(id) AS last FROM dark_store', [], {
      code: 'PROTOCOL_CONNECTION_LOST',
      message: 'Connection lost: The server closed the connection.',
    } as unknown as Error);
    const query = jest
      .fn()
      .mockRejectedValueOnce(lost)
      .mockResolvedValueOnce([{ last: null }])
      .mockResolvedValueOnce(undefined);
    const env = Object.assign(new StoreEnv(), { STORE_IDS_FROM: 1001, STORE_IDS_TO: 2000 });
    await new StoresService({ query } as unknown as DataSource, env).claimIdRange();
    expect(query).toHaveBeenCalledTimes(3);
    expect(query).toHaveBeenLastCalledWith('ALTER TABLE dark_store AUTO_INCREMENT = 1001');
  });
});

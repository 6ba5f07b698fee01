/**
 * What the three database-owning services (order, store, delivery) share and the gateway does not:
 * their bootstrap, the TypeORM helpers, the branch barrier and the participants' HoldRows. Imported
 * as `@app/contracts/service`, apart from the main barrel, so that the gateway never loads TypeORM
 * and mysql2 (its idle RSS fell from 133 to 106 MB).
 */
export * from './database/database';
export * from './database/branch-barrier';
export * from './database/hold-rows';
export * from './observability/participant-metrics';
export * from './transport/bootstrap';
export * from './health/service-health';

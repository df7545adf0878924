export { createManagementServer, managementRoutes, type ManagementRoutesOptions, type ManagementServerOptions, type ReadinessSource } from './management-server.js';
export { listenable, type RunningServer } from '../http/listen.js';

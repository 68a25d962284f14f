/** Why a catalog write was refused; the admin API maps each kind to an HTTP status. */
export type CatalogErrorKind = 'not_found' | 'conflict' | 'unprocessable';

export class CatalogError extends Error {
  constructor(
    readonly kind: CatalogErrorKind,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
    this.name = 'CatalogError';
  }
}

export const notFound = (what: string, id: string): CatalogError =>
  new CatalogError('not_found', 'not_found', `${what} ${id} does not exist`);

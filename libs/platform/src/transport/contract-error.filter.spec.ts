import { ArgumentsHost, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { lastValueFrom, Observable } from 'rxjs';
import { ErrorCode } from '@app/contracts';
import { ContractErrorFilter } from './contract-error.filter';

function rpcHost(headers: Record<string, string> = {}, data: unknown = {}): ArgumentsHost {
  const context = { getPattern: () => 'store.packet.reserve', getMessage: () => ({ properties: { headers } }) };
  return { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => context, getData: () => data }) } as unknown as ArgumentsHost;
}

function httpHost() {
  const response = { status: jest.fn(), json: jest.fn(), headersSent: false };
  response.status.mockReturnValue(response);
  const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  return { host, response };
}

describe('ContractErrorFilter', () => {
  const filter = new ContractErrorFilter();
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('passes a contract error on to the caller as it is', async () => {
    const error = { code: ErrorCode.VALIDATION_FAILED, message: 'bad' };
    const reply = filter.catch(new RpcException(error), rpcHost()) as Observable<never>;
    await expect(lastValueFrom(reply)).rejects.toEqual(error);
  });

  it('turns anything else a handler throws into INTERNAL, without its details', async () => {
    const reply = filter.catch(new Error('secret detail'), rpcHost()) as Observable<never>;
    await expect(lastValueFrom(reply)).rejects.toEqual({ code: ErrorCode.INTERNAL, message: expect.not.stringContaining('secret') });
  });

  it('names the message’s correlation and order ids on the line of an unhandled error', () => {
    const error = jest.mocked(Logger.prototype.error);
    error.mockClear();
    filter.catch(new Error('boom'), rpcHost({ 'x-correlation-id': 'corr-1' }, { orderId: 'order-1' }));
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ correlationId: 'corr-1', orderId: 'order-1', pattern: 'store.packet.reserve' }),
      expect.stringContaining('boom'),
    );
  });

  it('answers an HTTP exception on the service port with its own status and body', () => {
    const { host, response } = httpHost();
    filter.catch(new NotFoundException('Cannot GET /nope'), host);
    expect(response.status).toHaveBeenCalledWith(404);
    expect(response.json).toHaveBeenCalledWith(expect.objectContaining({ statusCode: 404, message: 'Cannot GET /nope' }));
  });

  it('wraps a string HTTP error body as Nest does, and sends nothing once headers are out', () => {
    const { host, response } = httpHost();
    filter.catch(new HttpException('slow down', 429), host);
    expect(response.json).toHaveBeenCalledWith({ statusCode: 429, message: 'slow down' });
    const sent = httpHost();
    sent.response.headersSent = true;
    filter.catch(new Error('late'), sent.host);
    expect(sent.response.status).not.toHaveBeenCalled();
  });

  it('answers an unexpected error on the service port with 500 INTERNAL', () => {
    const { host, response } = httpHost();
    filter.catch(new Error('boom'), host);
    expect(response.status).toHaveBeenCalledWith(500);
    expect(response.json).toHaveBeenCalledWith(expect.objectContaining({ code: ErrorCode.INTERNAL }));
  });
});

import { Channel, ChannelModel, connect } from 'amqplib';

/**
 * How many consumers a queue has, asked of the broker (a passive declare answers it). A partition
 * whose services are all stopped has none: the broker drops a consumer as soon as its connection
 * closes, so the gateway knows at once that a request sent there would wait for nobody.
 *
 * One connection and channel for the gateway; concurrent questions about one queue share one
 * answer. `undefined` when the broker itself cannot be asked: the caller then sends as it would
 * without the question, and learns from the call.
 */
export class QueueConsumers {
  private connection?: Promise<ChannelModel>;
  private channel?: Promise<Channel>;
  private readonly asking = new Map<string, Promise<number | undefined>>();
  private closed = false;

  constructor(private readonly url: string) {}

  count(queue: string): Promise<number | undefined> {
    let answer = this.asking.get(queue);
    if (!answer) {
      answer = this.ask(queue).finally(() => this.asking.delete(queue));
      this.asking.set(queue, answer);
    }
    return answer;
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = await this.connection?.catch(() => undefined);
    await connection?.close().catch(() => undefined);
  }

  private async ask(queue: string): Promise<number | undefined> {
    if (this.closed) return undefined;
    let channel: Channel;
    try {
      channel = await this.openChannel();
    } catch {
      return undefined;
    }
    try {
      return (await channel.checkQueue(queue)).consumerCount;
    } catch (err) {
      // The broker closes the channel on a failed passive declare: the next question opens another.
      this.channel = undefined;
      // 404: no such queue, so nothing consumes it (no service of the partition ever started).
      return (err as { code?: number }).code === 404 ? 0 : undefined;
    }
  }

  private openChannel(): Promise<Channel> {
    if (!this.channel) {
      const opening = this.openConnection()
        .then((connection) => connection.createChannel())
        .then((channel) => {
          channel.on('error', () => undefined);
          channel.on('close', () => {
            if (this.channel === opening) this.channel = undefined;
          });
          return channel;
        });
      opening.catch(() => {
        if (this.channel === opening) this.channel = undefined;
      });
      this.channel = opening;
    }
    return this.channel;
  }

  private openConnection(): Promise<ChannelModel> {
    if (!this.connection) {
      const connecting = connect(this.url).then((connection) => {
        const forget = () => {
          if (this.connection === connecting) this.connection = undefined;
          this.channel = undefined;
        };
        connection.on('error', forget);
        connection.on('close', forget);
        return connection;
      });
      connecting.catch(() => {
        if (this.connection === connecting) this.connection = undefined;
      });
      this.connection = connecting;
    }
    return this.connection;
  }
}

import { expect } from 'chai';
import { parseBrokerUrls } from '../src/transports/amqp/url';
import { ConfigurationError } from '../src/errors';
import { jsonLogger } from '../src/logger';
import { redactText, redactUrl, stripUserinfo } from '../src/redact';
import { HOSTILE_PASSWORDS } from './support/passwords';

describe('URL redaction', () => {
  it('replaces the whole userinfo of an AMQP URL', () => {
    expect(redactUrl('amqps://app:s3cr3t@b-1.mq.eu-west-1.amazonaws.com:5671/prod')).to.equal('amqps://***@b-1.mq.eu-west-1.amazonaws.com:5671/prod');
  });

  it('removes everything up to the last @, whatever the password holds', () => {
    for (const password of HOSTILE_PASSWORDS) {
      const url = `amqp://app:${password}@mq.internal:5672/prod`;
      expect(redactUrl(url), password).to.equal('amqp://***@mq.internal:5672/prod');
      expect(stripUserinfo(url), password).to.equal('amqp://mq.internal:5672/prod');
      const text = redactText(`connect to ${url} failed; also tried "${url}"`, []);
      expect(text, password).not.to.contain(password);
      expect(text, password).to.contain('amqp://***@mq.internal:5672/prod');
    }
  });

  it('removes a password as the transport knows it, percent-encoded or not', () => {
    expect(redactText('auth failed for pa ss%20word and pa%20ss%2520word', ['pa ss%20word'])).to.equal('auth failed for *** and ***');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('amqp://localhost')).to.equal('amqp://localhost');
  });

  it('redacts URLs and known secrets inside free text', () => {
    expect(redactText('failed for amqp://u:hunter22@h/v because hunter22', ['hunter22'])).to.equal('failed for amqp://***@h/v because ***');
  });

  it('keeps JSON log lines intact: a URL ends at a quote', () => {
    const line = JSON.stringify({ msg: 'x', url: 'amqp://u:p@ss@h/v', contact: 'ops@example.com' });
    expect(JSON.parse(redactText(line, []))).to.deep.equal({ msg: 'x', url: 'amqp://***@h/v', contact: 'ops@example.com' });
  });

  it('never puts the password of an invalid URL into the error', () => {
    try {
      parseBrokerUrls('amqp://user:pa ss@@[bad');
      expect.fail('expected a ConfigurationError');
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigurationError);
      expect(String((error as Error).message)).not.to.contain('pa ss');
      expect(JSON.stringify(error)).not.to.contain('pa ss');
    }
  });

  it('parses passwords holding @ / # ? % : without percent-encoding, and never echoes them', () => {
    for (const password of HOSTILE_PASSWORDS) {
      const address = parseBrokerUrls(`amqp://app:${password}@mq.internal:5673/prod`);
      expect(address, password).to.include({ username: 'app', password, vhost: 'prod', redacted: 'amqp://mq.internal:5673/prod' });
      expect(address.hosts).to.deep.equal(['mq.internal:5673']);
    }
    expect(parseBrokerUrls(`amqp://app:${encodeURIComponent('a@b/c')}@h`).password).to.equal('a@b/c');
  });

  it('refuses an unreadable URL with a ConfigurationError that does not contain it', () => {
    for (const raw of ['amqp://u:S3cr@tPr0d@[bad', 'amqp//u:S3cr@tPr0d@host', 'http://u:S3cr@tPr0d@host', 'amqp://u:S3cr@tPr0d@']) {
      let error: unknown;
      try { parseBrokerUrls(raw); } catch (e) { error = e; }
      expect(error, raw).to.be.instanceOf(ConfigurationError);
      for (const text of [(error as Error).message, JSON.stringify(error), String((error as Error).stack)]) {
        expect(text, raw).not.to.contain('S3cr');
        expect(text, raw).not.to.contain('tPr0d');
      }
    }
  });

  it('parses several URLs of one cluster into a host list', () => {
    const address = parseBrokerUrls(['amqp://u:p@a:5672/v', 'amqp://u:p@b:5673/v']);
    expect(address.hosts).to.deep.equal(['a:5672', 'b:5673']);
    expect(address.vhost).to.equal('v');
    expect(parseBrokerUrls('amqps://u:p@mq.example.com').hosts).to.deep.equal(['mq.example.com:5671']);
  });

  it('writes one escaped JSON line per entry: newlines, CR and ESC in message ids or errors cannot forge or colour lines', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ write: (line) => lines.push(line), level: 'debug' });
    const forged = 'id\n{"level":"error","msg":"forged"}\r\u001b[31mred';
    logger.warn('message dead-lettered', { messageId: forged, error: `failed at amqp://u:S3cr@tPr0d@h/v\n${forged}` });
    expect(lines).to.have.length(1);
    expect(lines[0]).not.to.match(/[\n\r\u001b]/);
    expect(lines[0]).not.to.contain('S3cr');
    expect(JSON.parse(lines[0]!).messageId).to.equal(forged);
  });
});

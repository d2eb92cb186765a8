import { expect } from 'chai';
import { parseBrokerUrls } from '../src/transports/amqp/url';
import { ConfigurationError } from '../src/errors';
import { redactText, redactUrl } from '../src/redact';

describe('URL redaction', () => {
  it('replaces the password of an AMQP URL', () => {
    expect(redactUrl('amqps://app:s3cr3t@b-1.mq.eu-west-1.amazonaws.com:5671/prod')).to.equal('amqps://app:***@b-1.mq.eu-west-1.amazonaws.com:5671/prod');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('amqp://localhost')).to.equal('amqp://localhost');
  });

  it('redacts URLs and known secrets inside free text', () => {
    expect(redactText('failed for amqp://u:hunter22@h/v because hunter22', ['hunter22'])).to.equal('failed for amqp://u:***@h/v because ***');
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

  it('parses several URLs of one cluster into a host list', () => {
    const address = parseBrokerUrls(['amqp://u:p@a:5672/v', 'amqp://u:p@b:5673/v']);
    expect(address.hosts).to.deep.equal(['a:5672', 'b:5673']);
    expect(address.vhost).to.equal('v');
    expect(parseBrokerUrls('amqps://u:p@mq.example.com').hosts).to.deep.equal(['mq.example.com:5671']);
  });
});

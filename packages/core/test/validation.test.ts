import 'reflect-metadata';
import { expect } from 'chai';
import { Expose, Transform, Type } from 'class-transformer';
import {
  IsDate, IsInt, IsOptional, IsString, Min, Validate, ValidateIf, ValidateNested, ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { PayloadValidationError, type ValidationIssue } from '../src/errors';
import { createPayloadValidator, type PayloadValidator } from '../src/validation';

class LineItem {
  @IsString() sku!: string;
  @IsInt() @Min(1) qty!: number;
}

class Order {
  @IsString() orderId!: string;
  @IsOptional() @IsInt() @Min(1) priority = 3;
  @ValidateNested({ each: true }) @Type(() => LineItem) items!: LineItem[];
  @IsOptional() @Type(() => Date) @IsDate() placedAt?: Date;
  comment?: string;
}

@ValidatorConstraint({ name: 'skuFormat' })
class SkuFormat implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && /^[A-Z]{3}-\d{3}$/.test(value);
  }

  defaultMessage(): string {
    return '$property must look like ABC-123';
  }
}

@ValidatorConstraint({ name: 'skuExists', async: true })
class SkuExists implements ValidatorConstraintInterface {
  async validate(value: unknown): Promise<boolean> {
    return value === 'ABC-123';
  }
}

class CheckedItem {
  @Validate(SkuFormat) sku!: string;
}

class LookedUpItem {
  @Validate(SkuExists) sku!: string;
}

const order = { orderId: 'o-1', items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] };

/** Both paths, so every behaviour below holds for the compiled path and for class-validator itself. */
const PATHS = [
  { name: 'compiled', compile: true },
  { name: 'class-validator', compile: false },
] as const;

function issuesOf(run: () => unknown): ValidationIssue[] {
  try {
    run();
  } catch (error) {
    expect(error).to.be.instanceOf(PayloadValidationError);
    return [...(error as PayloadValidationError).issues];
  }
  expect.fail('expected a PayloadValidationError');
}

describe('Payload validation', () => {
  it('compiles classes that use built-in constraints, @ValidateNested and @Type', () => {
    const validator = createPayloadValidator(Order);
    expect(validator.compiled).to.equal(true);
    expect(validator.fallbackReason).to.equal(undefined);
  });

  for (const path of PATHS) {
    describe(`(${path.name})`, () => {
      const validatorOf = <T>(type: new () => T, settings: object = {}): PayloadValidator<T> =>
        createPayloadValidator(type, { ...settings, compile: path.compile });

      it('returns an instance of the class, nested classes included, synchronously', () => {
        const result = validatorOf(Order).validate(JSON.parse(JSON.stringify(order)));
        expect(result).to.be.instanceOf(Order);
        const instance = result as Order;
        expect(instance.items[0]).to.be.instanceOf(LineItem);
        expect(instance.items.map((item) => item.qty)).to.deep.equal([1, 2]);
      });

      it('keeps default values from property initialisers, as class-transformer does', () => {
        const instance = validatorOf(Order).validate({ ...order }) as Order;
        expect(instance.priority).to.equal(3);
      });

      it('builds Dates from strings with @Type(() => Date)', () => {
        const instance = validatorOf(Order).validate({ ...order, placedAt: '2024-05-01T10:00:00.000Z' }) as Order;
        expect(instance.placedAt).to.be.instanceOf(Date);
        expect(instance.placedAt!.toISOString()).to.equal('2024-05-01T10:00:00.000Z');
      });

      it('rejects a __proto__ key without touching Object.prototype', () => {
        const payload: unknown = JSON.parse('{"orderId":"o-1","items":[],"__proto__":{"polluted":true}}');
        const issues = issuesOf(() => validatorOf(Order).validate(payload));
        expect(issues).to.deep.equal([{ path: '__proto__', constraints: { forbiddenKey: '__proto__ is a forbidden key' } }]);
        expect(({} as { polluted?: unknown }).polluted).to.equal(undefined);
        expect(Object.prototype).to.not.have.property('polluted');
      });

      it('rejects constructor and prototype keys at any depth, naming each path', () => {
        const payload: unknown = JSON.parse('{"orderId":"o-1","items":[{"sku":"a","qty":1,"constructor":{"prototype":{"x":1}}}],"meta":{"prototype":1}}');
        const issues = issuesOf(() => validatorOf(Order).validate(payload));
        expect(issues.map((issue) => issue.path)).to.deep.equal(['items.0.constructor', 'meta.prototype']);
        expect(Object.prototype).to.not.have.property('x');
      });

      it('strips properties that have no decorator', () => {
        const instance = validatorOf(Order).validate({ ...order, comment: 'hi', unknown: 1 });
        expect(instance).to.not.have.property('comment');
        expect(instance).to.not.have.property('unknown');
      });

      it('reports properties without decorators when forbidNonWhitelisted is on', () => {
        const issues = issuesOf(() => validatorOf(Order, { forbidNonWhitelisted: true }).validate({ ...order, unknown: 1 }));
        // `comment` too: with ES2022 class fields every declared field is an own property of the instance.
        expect(issues).to.deep.equal([
          { path: 'comment', constraints: { whitelistValidation: 'property comment should not exist' } },
          { path: 'unknown', constraints: { whitelistValidation: 'property unknown should not exist' } },
        ]);
      });

      it('keeps properties without decorators when whitelisting is off', () => {
        const instance = validatorOf(Order, { whitelist: false }).validate({ ...order, unknown: { a: [1] } });
        expect(instance).to.have.deep.property('unknown', { a: [1] });
      });

      it('flattens nested errors into dotted paths with array indexes, with class-validator\'s messages', () => {
        const payload = { orderId: 7, items: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }, { sku: 'c', qty: 0 }, 5] };
        expect(issuesOf(() => validatorOf(Order).validate(payload))).to.deep.equal([
          { path: 'orderId', constraints: { isString: 'orderId must be a string' } },
          { path: 'items.2.qty', constraints: { min: 'qty must not be less than 1' } },
          { path: 'items.3', constraints: { nestedValidation: 'each value in nested property items must be either object or array' } },
        ]);
      });

      it('reports an unknown value for a nested object that has no @Type', () => {
        class Untyped {
          @ValidateNested() item!: LineItem;
        }
        const issues = issuesOf(() => validatorOf(Untyped).validate({ item: { sku: 'a', qty: 1 } }));
        expect(issues).to.deep.equal([{ path: 'item', constraints: { unknownValue: 'an unknown value was passed to the validate function' } }]);
      });

      it('validates recursive classes to any depth', () => {
        class Node {
          @IsString() name!: string;
          @IsOptional() @ValidateNested({ each: true }) @Type(() => Node) children?: Node[];
        }
        const payload = { name: 'a', children: [{ name: 'b', children: [{ name: 'c', children: [{ name: 4 }] }] }] };
        expect(issuesOf(() => validatorOf(Node).validate(payload)).map((issue) => issue.path)).to.deep.equal(['children.0.children.0.children.0.name']);
      });

      it('refuses a payload that is not an object, with an issue at the root', () => {
        for (const payload of [null, [order], 'order', 42, undefined]) {
          const issues = issuesOf(() => validatorOf(Order).validate(payload));
          expect(issues).to.have.length(1);
          expect(issues[0]!.path).to.equal('');
          expect(issues[0]!.constraints.isObject).to.match(/^the payload must be a JSON object for Order, got /);
        }
      });

      it('accepts an instance of the class itself and returns a new, validated one', () => {
        const message = Object.assign(new Order(), { orderId: 'o-2', items: [Object.assign(new LineItem(), { sku: 'x', qty: 1 })] });
        const result = validatorOf(Order).validate(message) as Order;
        expect(result).to.be.instanceOf(Order).and.not.equal(message);
        expect(result.items[0]).to.be.instanceOf(LineItem);
      });
    });
  }

  it('hands values JSON cannot carry (a Map) to class-transformer, so the outcome is its own', () => {
    const payload = () => ({ orderId: 'o-1', items: [new Map([['sku', 'a']])] });
    const compiled = createPayloadValidator(Order).validate(payload()) as Order;
    const reference = createPayloadValidator(Order, { compile: false }).validate(payload()) as Order;
    // class-transformer keeps a Map (reading its keys as properties, so emptying it) and class-validator lets it pass.
    expect(compiled.items[0]).to.be.instanceOf(Map);
    expect(compiled).to.deep.equal(reference);
  });

  it('refuses a payload nested deeper than 256 levels on both paths, without overflowing the stack', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) deep = { inner: deep };
    for (const compile of [true, false]) {
      let error: unknown;
      try {
        createPayloadValidator(Order, { compile }).validate({ orderId: 'x', extra: deep });
      } catch (e) {
        error = e;
      }
      expect(error, `compile: ${compile}`).to.be.instanceOf(PayloadValidationError);
      expect((error as PayloadValidationError).issues.map((i) => Object.keys(i.constraints)[0])).to.include('maxDepth');
    }
  });

  it('falls back to class-validator for a custom constraint', () => {
    const validator = createPayloadValidator(CheckedItem);
    expect(validator.compiled).to.equal(false);
    expect(validator.fallbackReason).to.equal('the custom constraint @skuFormat on CheckedItem.sku');
    expect(validator.validate({ sku: 'ABC-123' })).to.be.instanceOf(CheckedItem);
    expect(issuesOf(() => validator.validate({ sku: 'abc' }))).to.deep.equal([{ path: 'sku', constraints: { skuFormat: 'sku must look like ABC-123' } }]);
  });

  it('falls back for a class nested in a compiled one, since the whole tree must be compiled', () => {
    class Basket {
      @ValidateNested({ each: true }) @Type(() => CheckedItem) items!: CheckedItem[];
    }
    expect(createPayloadValidator(Basket).fallbackReason).to.equal('the custom constraint @skuFormat on CheckedItem.sku');
  });

  it('falls back for @ValidateIf, @Transform and @Expose, and names what it met', () => {
    class Conditional {
      @ValidateIf((o: { kind?: string }) => o.kind === 'a') @IsString() a?: string;
    }
    class Transformed {
      @Transform(({ value }) => String(value).trim()) @IsString() name!: string;
    }
    class Exposed {
      @Expose({ name: 'full_name' }) @IsString() fullName!: string;
    }
    expect(createPayloadValidator(Conditional).fallbackReason).to.equal('@ValidateIf on Conditional.a');
    expect(createPayloadValidator(Transformed).fallbackReason).to.equal('@Transform on Transformed.name');
    expect(createPayloadValidator(Exposed).fallbackReason).to.equal('@Expose/@Exclude on Exposed');
    expect(createPayloadValidator(Transformed).validate({ name: '  x ' })).to.deep.equal(Object.assign(new Transformed(), { name: 'x' }));
  });

  it('returns synchronously after a fallback unless a constraint is async', async () => {
    const synchronous = createPayloadValidator(CheckedItem).validate({ sku: 'ABC-123' });
    expect(synchronous).to.not.be.instanceOf(Promise);

    const lookedUp = createPayloadValidator(LookedUpItem);
    const accepted = lookedUp.validate({ sku: 'ABC-123' });
    expect(accepted).to.be.instanceOf(Promise);
    expect(await accepted).to.be.instanceOf(LookedUpItem);
    const rejected = lookedUp.validate({ sku: 'XYZ-999' }) as Promise<unknown>;
    const error: unknown = await rejected.then(() => undefined, (reason: unknown) => reason);
    expect(error).to.be.instanceOf(PayloadValidationError);
    expect((error as PayloadValidationError).issues).to.deep.equal([{ path: 'sku', constraints: { skuExists: '' } }]);
  });

  it('checks constraints that name groups, as class-validator does when validating without groups: all of them', () => {
    class Grouped {
      @IsString({ groups: ['create'] }) name!: string;
      @IsInt({ groups: ['update'], always: false }) @Min(1, { always: true }) version!: number;
    }
    const compiled = createPayloadValidator(Grouped);
    expect(compiled.compiled).to.equal(true);
    const payload = { name: 5, version: 0.5 };
    expect(issuesOf(() => compiled.validate(payload))).to.deep.equal(issuesOf(() => createPayloadValidator(Grouped, { compile: false }).validate(payload)));
    expect(issuesOf(() => compiled.validate(payload)).map((issue) => Object.keys(issue.constraints))).to.deep.equal([['isString'], ['min', 'isInt']]);
  });

  it('uses class-validator itself when compilation is turned off', () => {
    const validator = createPayloadValidator(Order, { compile: false });
    expect(validator.compiled).to.equal(false);
    expect(validator.fallbackReason).to.equal('compilation is turned off (compile: false)');
  });

  it('says in the error message which class failed and why', () => {
    const error = (() => {
      try {
        createPayloadValidator(Order).validate({ orderId: 'o-1', items: [{ sku: 'a', qty: 0 }] });
      } catch (caught) {
        return caught as PayloadValidationError;
      }
      return undefined;
    })();
    expect(error?.code).to.equal('VALIDATION_FAILED');
    expect(error?.permanent).to.equal(true);
    expect(error?.message).to.equal('Order failed validation: items.0.qty: qty must not be less than 1');
  });
});

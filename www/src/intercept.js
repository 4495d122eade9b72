// Watching a service desk and its web chat callback without changing them: a Proxy that runs hooks around
// method calls. `before` hooks run before the call, `after` hooks once its promise settles successfully.
export function intercept(target, before, after = {}) {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      return (...args) => {
        before[prop]?.(...args);
        const result = value.apply(obj, args);
        if (after[prop]) Promise.resolve(result).then(() => after[prop](...args), () => {});
        return result;
      };
    },
  });
}

// Node module customization hooks (module.register): the app's `import('electron')` gets the
// double, built by driver.ts to one file. Every other specifier resolves as usual.
let doubleUrl;

export async function initialize(data) {
  doubleUrl = data.url;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron') return { url: doubleUrl, shortCircuit: true };
  return nextResolve(specifier, context);
}

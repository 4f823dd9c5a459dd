"""Registration into paddleseg's component managers that refuses to shadow existing names.

paddleseg's ``ComponentManager.add_component`` only warns and then replaces a component whose
name is already taken, which would silently change what an existing config builds.
"""


def register(component_manager):
    """Decorator that adds a class or function to ``component_manager`` under its own name.

    Raises:
        KeyError: if the name is already registered by paddleseg or another extension.
    """

    def decorator(component):
        name = component.__name__
        if name in component_manager.components_dict:
            existing = component_manager.components_dict[name]
            if existing is component:
                return component
            raise KeyError(f"{component_manager.name} already has a component named {name!r} "
                           f"({existing.__module__}); pphumanseg will not replace it")
        return component_manager.add_component(component)

    return decorator

# expect: reject-at-compile
# attack: subscribe to Kit's update event stream: code that runs every frame after the job.
import carb.events
import omni.kit.app
stream = omni.kit.app.get_app().get_update_event_stream()
sub = stream.create_subscription_to_pop(lambda e: print("KGESC" + "APE"))
